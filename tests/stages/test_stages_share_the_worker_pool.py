"""Per-record stages share the worker's one pool of children: a stage that
starts the pool works in it, a stage that only joins one works in the
worker until another stage has started it, and each record's outcome comes
out once, in record order."""

import os

from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import PaneInfo, PaneInfoTiming

from configs.loading import load_config
from transforms.worker_pool import PooledRecordStageFn, worker_pool

PANE = PaneInfo(True, True, PaneInfoTiming.ON_TIME, 0, 0)


class _WhereItRuns(PooledRecordStageFn):
  """Each record's outcome: the record's number and the id of the process
  its work ran in."""

  STAGE = 'where_it_runs'

  def work(self, record, run):
    return run(os.getpid)

  def emitted(self, record, pid):
    return [(record['n'], pid)]


def pool_config(**settings):
  return dict(load_config()['extract'], processes=2, **settings)


def bundle(stage, records):
  """The stage's outcomes of one bundle of `records`, as values."""
  stage.start_bundle()
  out = []
  for record in records:
    out += list(stage.process(record, 0, GlobalWindow(), PANE))
  out += list(stage.finish_bundle())
  return [getattr(o, 'value', o) for o in out]


def test_a_joining_stage_works_in_the_worker_until_the_pool_is_started():
  config = pool_config()
  joining = _WhereItRuns(config, starts_pool=False)
  joining.setup()
  pool = worker_pool(config)
  try:
    records = [{'n': n} for n in range(6)]
    before = bundle(joining, records)
    assert before == [(n, os.getpid()) for n in range(6)]
    pool(len, 'start a child')  # as extraction does on its first page
    after = bundle(joining, records)
    assert [n for n, _ in after] == list(range(6))
    assert os.getpid() not in {pid for _, pid in after}
  finally:
    pool.release()
    joining.teardown()


def test_a_starting_stage_works_in_the_children_and_keeps_record_order():
  starting = _WhereItRuns(pool_config(), starts_pool=True)
  starting.setup()
  try:
    out = bundle(starting, [{'n': n} for n in range(10)])
  finally:
    starting.teardown()
  assert [n for n, _ in out] == list(range(10))
  assert os.getpid() not in {pid for _, pid in out}


def test_without_a_budget_every_stage_works_in_the_worker():
  starting = _WhereItRuns(pool_config(timeout_seconds=0))
  starting.setup()
  out = bundle(starting, [{'n': n} for n in range(3)])
  starting.teardown()
  assert out == [(n, os.getpid()) for n in range(3)]
