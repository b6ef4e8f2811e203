"""The worker's pool of children, shared by the per-record stages that run
their heavy work in it: extraction, language detection, and the topic
scores and dedup's sketches worked out ahead of dedup.

A worker process has one pool (``TimeBudget.shared``): `extract.processes`
children (0: one per core), each call within `extract.timeout_seconds` of
the child's CPU time. A stage hands a bundle's records to the pool ahead of
the one it emits, so one Beam thread keeps the children busy while the
worker goes on: extraction keeps every child busy (a 1-worker run extracts
on every core); after the site boilerplate's barrier (which waits for the
whole input), language detection works in one child, topic scoring in
another, and dedup's sketches in whichever is idle, while the worker runs
what follows them (the filter, dedup), instead of doing it all on one core.
A stage's outcomes come out in record order, each in its record's window.
"""

import collections
import os
from concurrent import futures
from typing import Any, Callable, Dict, Iterable, List, Optional

import apache_beam as beam
from apache_beam.utils.windowed_value import WindowedValue

from transforms import schema
from transforms.dead_letters import RecordStageFn
from transforms.pool_modules import EXTRACTION_MODULES
from transforms.text.budget import TimeBudget, call
from transforms.text.page import WARM_UP_PAGE, extract_page

# Records a pooled stage hands out ahead of the one it emits next, at least
# (records are small beside what they cost: a page's HTML is 0.1 to 1 MB).
RECORDS_AHEAD = 16

# What a new child extracts first, to load trafilatura.
WARM_UP = (WARM_UP_PAGE, None)


def pool_size(extract_config: Dict[str, Any]) -> int:
  """The children of a worker's pool: `extract.processes`, 0 one per core."""
  return extract_config['processes'] or os.cpu_count() or 1


def worker_pool(extract_config: Dict[str, Any]) -> Optional[TimeBudget]:
  """This process's pool of children (``release()`` it when done), or None
  with the budget off (`extract.timeout_seconds` 0: work in the worker)."""
  if not extract_config['timeout_seconds']:
    return None
  # The fork server imports what extraction uses once, for every child.
  return TimeBudget.shared(
    extract_config['timeout_seconds'],
    call,
    (extract_page, *WARM_UP),
    pool_size(extract_config),
    EXTRACTION_MODULES,
  )


class PooledRecordStageFn(RecordStageFn):
  """A per-record stage whose work runs in the worker's pool of children.

  A subclass implements ``work(record, run)``, the per-record work: it calls
  ``run(function, *args)`` for what runs in a child (`function` a
  module-level function, free of Beam), and runs in a thread that waits for
  the child (no metrics there); and ``emitted(record, result)``, the
  record's outcomes from `work`'s result, in Beam's thread. What either
  raises, or a call over the budget, is the record's dead letter
  (``dead_letter(record, error)``). With the budget off, `run` is a plain
  call in the worker.

  `starts_pool`: False for a stage that only joins a pool another stage
  started (extraction, on a page's HTML): a run of plain-text records, which
  never start a child, does its work in the worker instead of paying for
  children to start. `children`: how many of the pool's children the stage
  keeps busy at once (None: all of them); with 1, always the same child
  (``TimeBudget.pinned``, the pool's first slot, which every stage of one
  child shares), so that what the work loads as it goes is loaded once.
  Either way the outcomes are the same. A stage whose work costs less done
  for many records at once sets ``GROUP`` and implements
  ``work_group(records, run)``: the records go to the child that many at a
  time (the bundle's last group smaller), and come out in order as ever.
  """

  def __init__(
    self, extract_config: Dict[str, Any], starts_pool: bool = True, children: Optional[int] = None
  ):
    super().__init__()
    self._pool_config = {k: extract_config[k] for k in ('timeout_seconds', 'processes')}
    self._starts_pool = starts_pool
    self._children = children

  # The slot of the pool a stage of one child is pinned to (the language
  # stages share slot 0; another slot is another child, where the pool has
  # more than one).
  SLOT = 0

  # Records whose work goes to a child in one call: a subclass whose work
  # costs less done for many at once (a model's call) sets it, and
  # implements ``work_group``.
  GROUP = 1

  def work(self, record: Dict[str, Any], run: Callable[..., Any]) -> Any:
    raise NotImplementedError

  def work_group(self, records: List[Dict[str, Any]], run: Callable[..., Any]) -> List[Any]:
    """`work`'s results for several records at once (with GROUP > 1)."""
    return [self.work(record, run) for record in records]

  def emitted(self, record: Dict[str, Any], result: Any) -> List[Any]:
    raise NotImplementedError

  def failed(self, record: Dict[str, Any], error: Exception) -> List[Any]:
    """The record's outcomes when `work` or `emitted` raised: its dead
    letter (a subclass may say otherwise)."""
    return [beam.pvalue.TaggedOutput(schema.DEAD_LETTER, self.dead_letter(record, error))]

  def emitting(self, outcomes: Iterable[Any]) -> Iterable[Any]:
    """Every outcome on its way out (a subclass may count them)."""
    return outcomes

  def outputs(self, record):
    return self.emitted(record, self.work(record, call))

  def setup(self):
    self._pool = worker_pool(self._pool_config)
    self._waiters, self._pooled = None, False
    if self._pool is not None:
      size = pool_size(self._pool_config)
      busy = min(self._children or size, size)
      self._waiters = futures.ThreadPoolExecutor(busy, thread_name_prefix='newsbeam-pool')
      self._run = self._pool.pinned(self.SLOT) if busy == 1 else self._pool
      # Records handed out ahead of the one emitted next: enough to keep
      # the children busy while one slow record (a large page; after the
      # site boilerplate's barrier, a text the language child labels again)
      # holds back the outcomes of those after it, and the worker meanwhile
      # runs the stages before this one on the records to come.
      self._ahead = max(2 * busy, RECORDS_AHEAD)

  def teardown(self):
    if self._waiters is not None:
      self._waiters.shutdown()
      self._pool.release()

  def start_bundle(self):
    self._pending = collections.deque()
    self._group: List[Any] = []  # records not yet handed out, with GROUP > 1
    self._pooled = None  # decided at the bundle's first record

  def _uses_pool(self) -> bool:
    """Whether this bundle's records go to the pool: decided when its first
    one comes, by when a stage fused before this one (extraction) has
    started the pool on its first page."""
    if self._pooled is None:
      self._pooled = self._waiters is not None and (self._starts_pool or self._pool.running())
    return self._pooled

  def process(
    self,
    record,
    timestamp=beam.DoFn.TimestampParam,
    window=beam.DoFn.WindowParam,
    pane=beam.DoFn.PaneInfoParam,
  ):
    if not self._uses_pool():
      yield from self.emitting(super().process(record))
      return
    if self.GROUP > 1:
      self._group.append((record, timestamp, window, pane))
      if len(self._group) >= self.GROUP:
        self._hand_out_group()
    else:
      waiting = self._waiters.submit(self._result_or_error, record)
      self._pending.append((record, waiting, timestamp, window, pane))
    while self._pending and (len(self._pending) > self._ahead or self._pending[0][1].done()):
      yield from self._emit_first()

  def finish_bundle(self):
    if self._group:
      self._hand_out_group()
    while self._pending:
      yield from self._emit_first()

  def _result_or_error(self, record):
    """(work's result, None), or (None, the exception it raised)."""
    try:
      return self.work(record, self._run), None
    except Exception as e:  # the record's dead letter says why
      return None, e

  def _hand_out_group(self):
    """The records gathered, to the pool in one call; each waits for its
    own result in it."""
    group, self._group = self._group, []
    records = [record for record, _, _, _ in group]
    waiting = self._waiters.submit(self._results_or_error, records)
    for i, (record, timestamp, window, pane) in enumerate(group):
      self._pending.append((record, _OneOf(waiting, i), timestamp, window, pane))

  def _results_or_error(self, records):
    """(work_group's results, None), or (None, the exception it raised)."""
    try:
      results = self.work_group(records, self._run)
      if len(results) != len(records):
        raise RuntimeError('%d results for %d records' % (len(results), len(records)))
      return results, None
    except Exception as e:  # each record's outcome says why
      return None, e

  def _emit_first(self):
    """The outcomes of the oldest record handed out, once it is done."""
    record, waiting, timestamp, window, pane = self._pending.popleft()
    result, error = waiting.result()
    if error is None:
      try:
        outcomes = self.emitted(record, result)
      except Exception as e:  # as RecordStageFn does: the record's dead letter
        error = e
    if error is not None:
      outcomes = self.failed(record, error)
    for outcome in self.emitting(outcomes):
      if isinstance(outcome, beam.pvalue.TaggedOutput):
        yield beam.pvalue.TaggedOutput(
          outcome.tag, WindowedValue(outcome.value, timestamp, (window,), pane)
        )
      else:
        yield WindowedValue(outcome, timestamp, (window,), pane)


class _OneOf:
  """One record's (result, error) in a group's future, as a record's own
  future gives it."""

  def __init__(self, waiting: futures.Future, index: int):
    self._waiting = waiting
    self._index = index

  def done(self) -> bool:
    return self._waiting.done()

  def result(self):
    results, error = self._waiting.result()
    return (None, error) if error is not None else (results[self._index], None)
