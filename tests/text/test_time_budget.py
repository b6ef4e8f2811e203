"""The time budget: a call that overruns its CPU budget is stopped (its
process killed) and a hang by the wall-clock backstop, a failure comes back
as it was raised, a dead process is replaced, and the threads of a process
share one bounded pool of children, none of which imports the parent's
main module; a pinned caller's calls all go to one child."""

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from transforms.text.budget import BudgetExceeded, TimeBudget, call


# Module-level, so that the child process can import them.
def sleep_then_answer(seconds):
  time.sleep(seconds)
  return 'slept %s' % seconds


def reject_page(page):
  raise ValueError('cannot read %s' % page)


def spin(seconds):
  """Uses CPU for `seconds` of its own CPU time (an endless page)."""
  start = time.process_time()
  while time.process_time() - start < seconds:
    pass
  return 'spun'


def pid_of_spinning(seconds):
  spin(seconds)
  return os.getpid()


def pid_after(seconds):
  time.sleep(seconds)
  return os.getpid()


def answer_or_die(die_now):
  if die_now:
    os._exit(3)  # as an out-of-memory kill would end it
  return 'alive'


@pytest.fixture
def budget():
  made = []

  def make(seconds, function, processes=1):
    made.append(TimeBudget(seconds, function, processes=processes))
    return made[-1]

  yield make
  for budget in made:
    budget.close()


def test_a_call_over_its_cpu_budget_is_stopped_and_the_next_one_runs(budget):
  spinner = budget(0.5, spin)
  assert spinner(0) == 'spun'
  with pytest.raises(BudgetExceeded, match='over the 0.5 second budget of CPU time'):
    spinner(3600)  # would hold the worker for an hour
  assert spinner(0) == 'spun'  # a fresh process


def test_a_set_up_call_has_a_budget_of_its_own(budget):
  # Loading a model in a child takes longer than one record's budget, and
  # cutting it short would kill the child.
  spinner = budget(0.2, call)  # each call names its function, as the worker pool's
  child = spinner.pinned(0)(pid_of_spinning, 0)
  assert spinner.pinned(0, seconds=30)(pid_of_spinning, 0.6) == child  # the same child, alive
  with pytest.raises(BudgetExceeded, match='over the 0.2 second budget'):
    spinner.pinned(0)(pid_of_spinning, 0.6)


def test_waiting_is_not_charged_to_the_budget(budget):
  # A loaded machine stretches wall time, not CPU time: the budget holds.
  sleeper = budget(0.3, sleep_then_answer)
  assert sleeper(1) == 'slept 1'


def test_a_call_that_hangs_is_stopped_by_the_wall_clock_backstop(budget):
  sleeper = budget(0.1, sleep_then_answer)
  with pytest.raises(BudgetExceeded, match='backstop of wall time'):
    sleeper(3600)
  assert sleeper(0) == 'slept 0'


def test_an_exception_in_the_call_is_raised_to_the_caller(budget):
  with pytest.raises(ValueError, match='cannot read page.html'):
    budget(30, reject_page)('page.html')


def test_a_process_that_dies_is_an_error_and_is_replaced(budget):
  fragile = budget(30, answer_or_die)
  with pytest.raises(RuntimeError, match='time-budget process died'):
    fragile(True)
  assert fragile(False) == 'alive'


def test_threads_share_a_pool_of_at_most_its_size(budget):
  pool = budget(30, pid_after, processes=2)
  pids, threads = [], []
  for _ in range(6):
    threads.append(threading.Thread(target=lambda: pids.extend(pool(0.05) for _ in range(3))))
    threads[-1].start()
  for thread in threads:
    thread.join()
  assert len(pids) == 18 and len(set(pids)) <= 2


def test_pinned_calls_all_go_to_one_child_that_others_share(budget):
  pool = budget(30, pid_after, processes=2)
  pinned = pool.pinned(0)
  pinned_pids, other_pids, threads = [], [], []
  for _ in range(3):
    threads.append(
      threading.Thread(target=lambda: pinned_pids.extend(pinned(0.02) for _ in range(4)))
    )
    threads.append(threading.Thread(target=lambda: other_pids.extend(pool(0.02) for _ in range(4))))
  for thread in threads:
    thread.start()
  for thread in threads:
    thread.join()
  assert len(pinned_pids) == 12 and len(set(pinned_pids)) == 1
  assert len(other_pids) == 12 and len(set(other_pids) | set(pinned_pids)) <= 2


def test_two_slots_are_pinned_to_two_children_where_the_pool_has_them(budget):
  pool = budget(30, pid_after, processes=2)
  # Both children exist and are idle, one of them pinned to slot 0, as after
  # extraction: slot 1, pinned anew, takes the other one.
  first = pool.pinned(0)(0.01)
  threads = [threading.Thread(target=pool, args=(0.2,)) for _ in range(2)]
  for thread in threads:
    thread.start()
  for thread in threads:
    thread.join()
  assert pool.pinned(0)(0.01) == first  # the child idle last
  second = pool.pinned(1)(0.01)
  assert first != second
  assert {pool.pinned(0)(0.01), pool.pinned(1)(0.01)} == {first, second}
  # In a pool of one child, the slots share it.
  single = budget(30, pid_after, processes=1)
  assert single.pinned(0)(0.01) == single.pinned(1)(0.01)


def test_callers_of_a_slot_whose_child_is_starting_wait_for_that_child():
  # Each child takes half a second to start (its warm-up): the slot's other
  # callers meanwhile neither start children of their own nor get another
  # one pinned to the slot, though the pool has room.
  pool = TimeBudget(30, pid_after, warm_up=(0.5,), processes=3)
  pinned = pool.pinned(0)
  pinned_pids, other_pids = [], []
  callers = [threading.Thread(target=lambda: pinned_pids.append(pinned(0.01))) for _ in range(3)]
  callers.insert(1, threading.Thread(target=lambda: other_pids.append(pool(0.01))))
  try:
    for caller in callers:
      caller.start()
      time.sleep(0.05)
    for caller in callers:
      caller.join()
    later = [pinned(0.01) for _ in range(3)]
  finally:
    pool.close()
  assert len(pinned_pids) == 3 and len(set(pinned_pids + later)) == 1
  assert len(other_pids) == 1


def test_a_pinned_child_that_dies_is_replaced_and_pinned_anew(budget):
  pool = budget(30, answer_or_die, processes=2)
  pinned = pool.pinned(0)
  assert pinned(False) == 'alive'
  with pytest.raises(RuntimeError, match='time-budget process died'):
    pinned(True)
  assert [pinned(False) for _ in range(3)] == ['alive'] * 3


def test_the_shared_pool_is_one_per_process_and_stops_with_its_last_user():
  first = TimeBudget.shared(30, pid_after, None, 2)
  second = TimeBudget.shared(30, pid_after, None, 2)
  assert first is second
  pid = first(0)
  first.release()
  assert second(0) == pid  # still running for the other user
  second.release()
  with pytest.raises(ProcessLookupError):
    os.kill(pid, 0)
  third = TimeBudget.shared(30, pid_after, None, 2)
  third.release()
  assert third is not first


def test_a_child_does_not_import_the_parent_main_module(tmp_path):
  # A pipeline's main module imports Beam and every stage: a child that
  # imported it again would pay seconds of CPU and hundreds of MB for it.
  imports = tmp_path / 'imports'
  script = tmp_path / 'main.py'
  script.write_text(
    textwrap.dedent(
      """
      with open(%r, 'a') as f:
        f.write('imported\\n')

      if __name__ == '__main__':
        from transforms.text.budget import TimeBudget

        budget = TimeBudget(30, len)
        print(budget('four'))
        budget.close()
      """
      % str(imports)
    )
  )
  root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  done = subprocess.run(
    [sys.executable, str(script)],
    capture_output=True,
    text=True,
    env=dict(os.environ, PYTHONPATH=root),
  )
  assert done.stdout.strip() == '4', done.stderr
  assert imports.read_text() == 'imported\n'
