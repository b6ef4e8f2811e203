"""Progress of a local run, for the person watching it.

Workers count what they do (pages through extraction, records written) into
one small file per process under ``NEWSBEAM_PROGRESS_DIR``, which the
launcher sets; the launcher sums the files every few seconds and prints one
line: counts so far, rate, elapsed. Without the variable (on Dataflow, whose
console shows a job's progress) counting costs a dictionary update and
writes nothing.
"""

import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from typing import Dict, Optional, TextIO

PROGRESS_ENV = 'NEWSBEAM_PROGRESS_DIR'
EXTRACTED = 'extracted'
WRITTEN = 'written'
_FLUSH_SECONDS = 1.0


class _ProcessCounts:
  """This process's counts, flushed to its file at most once a second."""

  def __init__(self):
    self._counts: Counter = Counter()
    self._lock = threading.Lock()
    self._flushed = 0.0
    self._folder: Optional[str] = None

  def add(self, what: str, n: int = 1, force: bool = False) -> None:
    folder = os.environ.get(PROGRESS_ENV)
    if not folder:
      return
    with self._lock:
      if folder != self._folder:  # a new run in this process counts afresh
        self._folder, self._counts = folder, Counter()
      if n:
        self._counts[what] += n
      now = time.monotonic()
      if not force and now - self._flushed < _FLUSH_SECONDS:
        return
      self._flushed = now
      counts = dict(self._counts)
    path = os.path.join(folder, '%d.json' % os.getpid())
    try:
      with open(path + '.tmp', 'w') as f:
        json.dump(counts, f)
      os.replace(path + '.tmp', path)
    except OSError:  # the launcher removed its folder: the run is ending
      pass

  def flush(self) -> None:
    self.add(WRITTEN, 0, force=True)


_COUNTS = _ProcessCounts()


def count(what: str, n: int = 1) -> None:
  """Adds `n` to this process's count of `what` (a no-op unless the
  launcher asked for progress)."""
  _COUNTS.add(what, n)


def flush() -> None:
  """Writes this process's counts now (at the end of a bundle)."""
  if os.environ.get(PROGRESS_ENV):
    _COUNTS.flush()


def read_counts(folder: str) -> Dict[str, int]:
  """The counts of every process, summed."""
  total: Counter = Counter()
  for name in os.listdir(folder):
    if name.endswith('.json'):
      try:
        with open(os.path.join(folder, name)) as f:
          total.update(json.load(f))
      except (OSError, ValueError):
        continue  # being replaced
  return dict(total)


def progress_line(counts: Dict[str, int], elapsed: float) -> str:
  extracted = counts.get(EXTRACTED, 0)
  written = counts.get(WRITTEN, 0)
  rate = extracted / elapsed if elapsed > 0 else 0.0
  minutes, seconds = divmod(int(elapsed), 60)
  return 'newsbeam: %d:%02d elapsed, %d records extracted (%s/s), %d records written' % (
    minutes,
    seconds,
    extracted,
    ('%.0f' if rate >= 10 else '%.1f') % rate,
    written,
  )


class ProgressReport:
  """A context for a local run: sets ``NEWSBEAM_PROGRESS_DIR`` for the
  workers, and prints a progress line every `seconds` (0: never) to
  `stream`, the first after `seconds`, so short runs stay quiet."""

  def __init__(self, seconds: float, stream: Optional[TextIO] = None):
    self._seconds = seconds
    self._stream = stream or sys.stderr
    self._stop = threading.Event()
    self._thread: Optional[threading.Thread] = None
    self._folder: Optional[tempfile.TemporaryDirectory] = None
    self._previous: Optional[str] = None

  def __enter__(self) -> 'ProgressReport':
    if not self._seconds:
      return self
    self._folder = tempfile.TemporaryDirectory(prefix='newsbeam-progress-')
    self._previous = os.environ.get(PROGRESS_ENV)
    os.environ[PROGRESS_ENV] = self._folder.name
    self._started = time.monotonic()
    self._thread = threading.Thread(target=self._report, name='newsbeam-progress', daemon=True)
    self._thread.start()
    return self

  def _report(self) -> None:
    while not self._stop.wait(self._seconds):
      counts = read_counts(self._folder.name)
      print(progress_line(counts, time.monotonic() - self._started), file=self._stream, flush=True)

  def __exit__(self, *_) -> None:
    if self._thread is None:
      return
    self._stop.set()
    self._thread.join()
    if self._previous is None:
      os.environ.pop(PROGRESS_ENV, None)
    else:
      os.environ[PROGRESS_ENV] = self._previous
    self._folder.cleanup()
