"""Runs of consecutive words, joined: the topic model's word n-grams and
dedup's shingles."""

from typing import Iterator, Sequence


def joined_runs(words: Sequence[str], n: int) -> Iterator[str]:
  """Each run of `n` consecutive words, in order, joined by a space (none
  where there are fewer than `n` words). The i-th word of each run comes
  from the i-th slice, and the joins are done in C, not a slice and a join
  in Python per run."""
  return map(' '.join, zip(*(words[i:] for i in range(n))))
