"""Per-record stages share the worker's one pool of children: a stage that
starts the pool works in it, a stage that only joins one works in the
worker until another stage has started it, and each record's outcome comes
out once, in record order; stages that keep one child busy share the same
one."""

import os
import threading
import time

from configs.loading import load_config
from tests.helpers import bundle_outputs
from transforms.worker_pool import PooledRecordStageFn, worker_pool


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
  return [getattr(o, 'value', o) for o in bundle_outputs(stage, records)]


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


def pid_after(seconds):
  time.sleep(seconds)
  return os.getpid()


def test_stages_of_one_child_share_the_same_child_and_wait_for_it():
  # The language stages (ahead of the barrier and after it) keep one child
  # busy each: the same one, so lingua loads its models once; when another
  # caller (extraction) holds it, they wait for it rather than take another.
  config = pool_config()
  one = _WhereItRuns(config, starts_pool=False, children=1)
  another = _WhereItRuns(config, starts_pool=False, children=1)
  pool = worker_pool(config)
  for stage in (one, another):
    stage.setup()
  try:
    both = []
    starting = [
      threading.Thread(target=lambda: both.append(pool(pid_after, 0.2))) for _ in range(2)
    ]
    for thread in starting:
      thread.start()
    for thread in starting:
      thread.join()
    assert len(set(both)) == 2  # two children
    ((_, first),) = bundle(one, [{'n': 0}])
    held = []
    holding = threading.Thread(target=lambda: held.append(pool(pid_after, 1.0)))
    holding.start()
    time.sleep(0.3)  # it has the child
    later = bundle(another, [{'n': 1}]) + bundle(one, [{'n': 2}])
    holding.join()
  finally:
    for stage in (one, another):
      stage.teardown()
    pool.release()
  assert held == [first]  # the other caller had the stages' child ...
  assert later == [(1, first), (2, first)]  # ... and they waited for it


def pids_of_a_group(size):
  """Run in a child for a group of `size` records: its id and the size,
  once per record."""
  return [(os.getpid(), size)] * size


class _GroupsWhereTheyRun(PooledRecordStageFn):
  """Records handed to a child four at a time: each outcome is the record's
  number, the child's id and the size of the group it went in; a group
  holding record 5 fails."""

  STAGE = 'groups_where_they_run'
  GROUP = 4

  def work_group(self, records, run):
    if any(record['n'] == 5 for record in records):
      raise ValueError('a group with 5')
    return run(pids_of_a_group, len(records))

  def emitted(self, record, result):
    return [(record['n'],) + tuple(result)]


def test_a_grouped_stage_hands_records_out_in_groups_and_keeps_record_order():
  stage = _GroupsWhereTheyRun(pool_config(), starts_pool=True, children=1)
  stage.setup()
  try:
    out = bundle_outputs(stage, [{'n': n} for n in range(10)])
  finally:
    stage.teardown()
  good = [o.value for o in out if not hasattr(o, 'tag')]
  dead = [o.value.value for o in out if getattr(o, 'tag', None) == 'dead_letter']
  # Records 0-3 and 8-9 (the bundle's last, smaller group) come out, in order.
  assert [n for n, _, _ in good] == [0, 1, 2, 3, 8, 9]
  assert [size for _, _, size in good] == [4, 4, 4, 4, 2, 2]
  assert len({pid for _, pid, _ in good}) == 1 and os.getpid() not in {p for _, p, _ in good}
  # The failed group's four records are each a dead letter saying why.
  assert [d['raw']['n'] for d in dead] == [4, 5, 6, 7]
  assert all('ValueError: a group with 5' in d['error'] for d in dead)
