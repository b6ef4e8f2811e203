"""Date partitions for backfills: `dt=YYYY-MM-DD` folders in and out, and
deduplication across the days of a range.

Raw input is read from `ROOT/dt=YYYY-MM-DD/*.jsonl[.gz]`; each record carries
the day it was read from (`partition_date`) until it is written to
`OUTPUT/<output>/dt=YYYY-MM-DD/`. Days are ranked in date order: when the same
article is listed on several days, the earliest day keeps it and the later
days' copies are duplicates, whatever their publication times; within a day
the usual keep rule (``dedup.keep_rank``) decides.
"""

import datetime
from typing import Any, Dict, List, Optional

import apache_beam as beam

from transforms.dedup import Deduplicate, keep_rank

PARTITION_FIELD = 'partition_date'
SCRAPED_FILES = '*.jsonl*'


def date_range(start: str, end: str) -> List[str]:
  """The days from `start` to `end` (inclusive), as YYYY-MM-DD."""
  first = datetime.date.fromisoformat(start)
  last = datetime.date.fromisoformat(end)
  if last < first:
    raise ValueError('end %s is before start %s' % (end, start))
  return [(first + datetime.timedelta(days=n)).isoformat()
          for n in range((last - first).days + 1)]


def partition_name(day: str) -> str:
  return 'dt=%s' % day


def scraped_glob(input_root: str, day: str) -> str:
  """The day's raw input: `ROOT/dt=YYYY-MM-DD/*.jsonl*` (.gz read too)."""
  return '/'.join((input_root.rstrip('/'), partition_name(day), SCRAPED_FILES))


def with_partition(record: Dict[str, Any], day: str) -> Dict[str, Any]:
  return dict(record, **{PARTITION_FIELD: day})


def partition_of(record: Dict[str, Any]) -> Optional[str]:
  """The day a record was read from. A dead letter of a later stage holds the
  failed article as its `raw`, and the day with it."""
  day = record.get(PARTITION_FIELD)
  if day is None and isinstance(record.get('raw'), dict):
    day = record['raw'].get(PARTITION_FIELD)
  return day


def without_partition(record: Dict[str, Any]) -> Dict[str, Any]:
  """The record as ingest writes it: its day is in its folder's name."""
  return {k: v for k, v in record.items() if k != PARTITION_FIELD}


def earliest_day_first(article: Dict[str, Any]):
  """Dedup rank across days: the earliest day, then the usual keep rule."""
  return (article[PARTITION_FIELD],) + keep_rank(article)


class DeduplicateAcrossDays(beam.PTransform):
  """Articles of every day of the range -> (kept, duplicates), an article
  listed again on a later day being a duplicate on that later day.

  This is the one place a backfill deduplicates: it compares the days of the
  range with each other. Duplicates of articles published before the range
  need the persisted fingerprint index (issue 5), which belongs here.
  """

  def __init__(self, dedup_config: Dict[str, Any]):
    super().__init__()
    self._config = dedup_config

  def expand(self, articles):
    return articles | 'Dedup' >> Deduplicate(self._config,
                                             rank=earliest_day_first)


class SplitByDay(beam.PTransform):
  """Records of the range -> one PCollection per day (in `days` order),
  without the partition field. A record of no known day is an error of the
  pipeline, not of the input, and fails loudly."""

  def __init__(self, days: List[str]):
    super().__init__()
    self._days = list(days)

  def expand(self, records):
    index = {day: i for i, day in enumerate(self._days)}
    parts = records | 'ByDay' >> beam.Partition(
        lambda record, n: index[partition_of(record)], len(self._days))
    return [part | 'Strip_%s' % day >> beam.Map(without_partition)
            for day, part in zip(self._days, parts)]
