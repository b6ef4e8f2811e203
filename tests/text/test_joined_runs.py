"""Runs of consecutive words, joined in C, are the runs a slice and a join
per run give, for every run length, short texts included."""

import pytest

from transforms.text.runs import joined_runs

WORDS = 'the council will meet on tuesday to vote'.split()


@pytest.mark.parametrize('n', [1, 2, 3, 5, 8, 9, 12])
@pytest.mark.parametrize('count', [0, 1, 2, 5, 8])
def test_runs_are_the_slices_joined(n, count):
  words = WORDS[:count]
  expected = [' '.join(words[i : i + n]) for i in range(len(words) - n + 1)]
  assert list(joined_runs(words, n)) == expected
