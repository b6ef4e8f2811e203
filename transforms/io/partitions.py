"""Date partitions for backfills: `dt=YYYY-MM-DD` folders in and out.

Raw input is read from `ROOT/dt=YYYY-MM-DD/*.jsonl[.gz]`; web archives and
sitemaps are read once for the range and their pages take the day they were
published (``archived_day``); each record carries its day (`partition_date`) until it is written to
`OUTPUT/<output>/dt=YYYY-MM-DD/`. How days are deduplicated against each
other and against earlier backfills: ``transforms/dedup/days.py``.
"""

import datetime
from typing import Any, Dict, List, Optional

import apache_beam as beam

from transforms.io.warc import day_of, publication_day

PARTITION_FIELD = 'partition_date'
SCRAPED_FILES = '*.jsonl*'


def date_range(start: str, end: str) -> List[str]:
  """The days from `start` to `end` (inclusive), as YYYY-MM-DD."""
  first = datetime.date.fromisoformat(start)
  last = datetime.date.fromisoformat(end)
  if last < first:
    raise ValueError('end %s is before start %s' % (end, start))
  return [(first + datetime.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def partition_name(day: str) -> str:
  return 'dt=%s' % day


def partition_day(folder: str) -> Optional[str]:
  """The day a `dt=YYYY-MM-DD` folder name stands for; None for another
  name."""
  prefix = partition_name('')
  return folder[len(prefix) :] if folder.startswith(prefix) else None


def scraped_glob(input_root: str, day: str) -> str:
  """The day's raw input: `ROOT/dt=YYYY-MM-DD/*.jsonl*` (.gz read too)."""
  return '/'.join((input_root.rstrip('/'), partition_name(day), SCRAPED_FILES))


def nearest_day(day: Optional[str], days: List[str]) -> str:
  """`day` when the range holds it, else the range's nearest end (its
  first day for no day at all)."""
  if day is None or day < days[0]:
    return days[0]
  return day if day <= days[-1] else days[-1]


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
      lambda record, n: index[partition_of(record)], len(self._days)
    )
    return [
      part | 'Strip_%s' % day >> beam.Map(without_partition) for day, part in zip(self._days, parts)
    ]


def archived_day(page: Dict[str, Any], days: List[str]) -> Optional[str]:
  """The day a web archive's or sitemap's page belongs to in a backfill of
  `days`: the day it says it was published (its page marks, else what its
  sitemap said), else the day it was archived; None when neither is in the
  range."""
  fallback = page.get('fallback') or {}
  candidates = (
    publication_day(page.get('html')),
    day_of(fallback.get('published_at')),
    day_of(page.get('fetched_at')),
  )
  for day in candidates:
    if day and days[0] <= day <= days[-1]:
      return day
  return None
