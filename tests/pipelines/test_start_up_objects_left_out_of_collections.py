"""A run's start-up objects (modules, the graph) are frozen out of Python's
collections while it runs, and handed back to the collector when it ends,
whether it succeeds or fails; a process that froze objects itself is left
as it is."""

import gc

import pytest

from pipelines import ingest
from tests.helpers import distinct_story_pages, read_outputs


@pytest.fixture(autouse=True)
def nothing_frozen_before():
  gc.unfreeze()
  yield
  gc.unfreeze()


def test_objects_are_frozen_while_running_and_given_back_after():
  with ingest.start_up_left_out_of_collections() as freeze:
    assert gc.get_freeze_count() == 0  # not until the graph is built
    freeze()
    assert gc.get_freeze_count() > 1000
  assert gc.get_freeze_count() == 0


def test_a_failed_run_gives_them_back_too():
  with pytest.raises(RuntimeError):
    with ingest.start_up_left_out_of_collections() as freeze:
      freeze()
      raise RuntimeError('the run failed')
  assert gc.get_freeze_count() == 0


def test_a_run_leaves_nothing_frozen(tmp_path):
  scraped = distinct_story_pages(tmp_path, 'pages.jsonl', range(3))
  ingest.run(['--scraped', scraped, '--output', str(tmp_path / 'out')])
  assert gc.get_freeze_count() == 0
  assert len(read_outputs(str(tmp_path / 'out'))['articles']) == 3


def test_objects_a_host_froze_stay_frozen(monkeypatch):
  gc.freeze()
  # Neither frozen again nor handed back. (Counted by the calls, not by
  # the frozen objects: a frozen object that dies, one of another test's
  # threads, say, leaves the count.)
  calls = []
  monkeypatch.setattr(gc, 'freeze', lambda: calls.append('freeze'))
  monkeypatch.setattr(gc, 'unfreeze', lambda: calls.append('unfreeze'))
  with ingest.start_up_left_out_of_collections() as freeze:
    freeze()
  assert calls == []
  assert gc.get_freeze_count() > 1000
