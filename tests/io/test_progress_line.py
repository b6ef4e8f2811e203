import io
import multiprocessing
import os
import time

from transforms.io import progress
from transforms.io.report import ProgressLog


def _count_in_a_worker(n):
  for _ in range(n):
    progress.count(progress.EXTRACTED)
  progress.flush()


def test_the_launcher_sums_what_worker_processes_count():
  out = io.StringIO()
  with progress.ProgressReport(0.2, out):
    folder = os.environ[progress.PROGRESS_ENV]
    workers = [multiprocessing.Process(target=_count_in_a_worker, args=(n,)) for n in (3, 4)]
    for w in workers:
      w.start()
    for w in workers:
      w.join()
    assert progress.read_counts(folder) == {progress.EXTRACTED: 7}
    time.sleep(0.5)
  assert progress.PROGRESS_ENV not in os.environ
  assert not os.path.exists(folder)
  assert 'records extracted' in out.getvalue().splitlines()[-1]
  assert '7 records extracted' in out.getvalue()


def test_a_new_run_in_the_same_process_counts_afresh(monkeypatch, tmp_path):
  for run in ('one', 'two'):
    folder = tmp_path / run
    folder.mkdir()
    monkeypatch.setenv(progress.PROGRESS_ENV, str(folder))
    progress.count(progress.WRITTEN, 5)
    progress.flush()
    assert progress.read_counts(str(folder)) == {progress.WRITTEN: 5}


def test_a_progress_line_says_counts_rate_and_elapsed():
  line = progress.progress_line({progress.EXTRACTED: 300, progress.WRITTEN: 280}, 75.0)
  assert line == 'newsbeam: 1:15 elapsed, 300 records extracted (4.0/s), 280 records written'


def test_no_progress_is_counted_or_printed_when_not_asked_for(tmp_path):
  out = io.StringIO()
  with progress.ProgressReport(0, out):
    assert progress.PROGRESS_ENV not in os.environ
    ProgressLog(30).count('articles')
  assert out.getvalue() == ''
  assert list(tmp_path.iterdir()) == []
