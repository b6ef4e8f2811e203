"""Date partitions for backfills: `dt=YYYY-MM-DD` folders in and out.

Raw input is read from `ROOT/dt=YYYY-MM-DD/*.jsonl[.gz]`; web archives and
sitemaps are read once for the range, their pages extracted once, and each
article takes the day it was published as extraction reads it
(``DateByPublication``); each record carries its day (`partition_date`)
until it is written to `OUTPUT/<output>/dt=YYYY-MM-DD/`. How days are deduplicated against each
other and against earlier backfills: ``transforms/dedup/days.py``.
"""

import datetime
from typing import Any, Dict, List, NamedTuple, Optional

import apache_beam as beam

from transforms import schema
from transforms.io.sitemaps import STAGE_READ_SITEMAP, listed_day
from transforms.io.warc import SOURCE_WARC, STAGE_READ_WARC, day_of

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


def _publication_days(article: Dict[str, Any]) -> List[Optional[str]]:
  fallback = article.get(schema.FALLBACK) or {}
  return [
    day_of(article.get('published_at')),
    day_of(fallback.get('published_at')),
    day_of(article.get('fetched_at')),
  ]


def archived_day(article: Dict[str, Any], days: List[str]) -> Optional[str]:
  """The day an extracted web archive's or sitemap's article belongs to in a
  backfill of `days`: the first in the range of the day it was published
  (`published_at` as extraction read it: the page's own marks, else its
  sitemap's date), the day its sitemap lists it, and the day it was archived
  (WARC-Date) or fetched. None when none is in the range."""
  for day in _publication_days(article):
    if day and days[0] <= day <= days[-1]:
      return day
  return None


def nearest_publication_day(article: Dict[str, Any], days: List[str]) -> str:
  """``archived_day``, else the range's day nearest the first it names: where
  a record that is not an article (rejected, failed) is reported."""
  day = archived_day(article, days)
  if day is not None:
    return day
  return nearest_day(next((d for d in _publication_days(article) if d), None), days)


def failure_day(dead: Dict[str, Any], days: List[str]) -> str:
  """The day a read or extraction failure of a backfill's web archives or
  sitemaps is reported on: a listed page's day as its sitemap dates it; a
  file, a sitemap or an archived page that failed has none known and goes
  to the range's first day."""
  raw = dead.get('raw')
  listed = listed_day(raw) if isinstance(raw, dict) else None
  return nearest_day(listed, days)


class Dated(NamedTuple):
  articles: beam.PCollection
  dead_letter: beam.PCollection


class DateByPublication(beam.PTransform):
  """Extracted articles of web archives and sitemaps -> ``Dated``: each
  tagged with its ``archived_day``; one of no day in the range is a dead
  letter (`outside_range`, its article as `raw`) on the range's nearest
  day."""

  def __init__(self, days: List[str]):
    super().__init__()
    self._days = list(days)

  def expand(self, articles):
    dated = articles | 'Date' >> beam.FlatMap(_dated, self._days).with_outputs(
      schema.DEAD_LETTER, main='articles'
    )
    return Dated(dated.articles, dated[schema.DEAD_LETTER])


def _dated(article: Dict[str, Any], days: List[str]):
  day = archived_day(article, days)
  if day is not None:
    yield with_partition(article, day)
    return
  stage = STAGE_READ_WARC if article.get('source') == SOURCE_WARC else STAGE_READ_SITEMAP
  yield beam.pvalue.TaggedOutput(
    schema.DEAD_LETTER,
    with_partition(
      schema.dead_letter(
        stage,
        'outside_range: published and archived outside %s..%s' % (days[0], days[-1]),
        schema.ordered({k: v for k, v in article.items() if k != schema.FALLBACK}),
        url=article.get('url'),
        feed_url=article.get('feed_url'),
      ),
      nearest_publication_day(article, days),
    ),
  )
