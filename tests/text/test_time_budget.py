"""The time budget: a call that overruns is stopped (its process killed), a
failure comes back as it was raised, and a dead process is replaced."""

import os
import time

import pytest

from transforms.text.budget import BudgetExceeded, TimeBudget


# Module-level, so that the child process can import them.
def sleep_then_answer(seconds):
  time.sleep(seconds)
  return 'slept %s' % seconds


def reject_page(page):
  raise ValueError('cannot read %s' % page)


def answer_or_die(die_now):
  if die_now:
    os._exit(3)  # as an out-of-memory kill would end it
  return 'alive'


@pytest.fixture
def budget():
  made = []

  def make(seconds, function):
    made.append(TimeBudget(seconds, function))
    return made[-1]

  yield make
  for budget in made:
    budget.close()


def test_a_call_over_its_budget_is_stopped_and_the_next_one_runs(budget):
  sleeper = budget(1, sleep_then_answer)
  assert sleeper(0) == 'slept 0'
  with pytest.raises(BudgetExceeded, match='over the 1 second budget'):
    sleeper(3600)  # would hold the worker for an hour
  assert sleeper(0) == 'slept 0'  # a fresh process


def test_an_exception_in_the_call_is_raised_to_the_caller(budget):
  with pytest.raises(ValueError, match='cannot read page.html'):
    budget(30, reject_page)('page.html')


def test_a_process_that_dies_is_an_error_and_is_replaced(budget):
  fragile = budget(30, answer_or_die)
  with pytest.raises(RuntimeError, match='time-budget process died'):
    fragile(True)
  assert fragile(False) == 'alive'
