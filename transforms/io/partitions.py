"""Date partitions for backfills: `dt=YYYY-MM-DD` folders in and out, and
deduplication across the days of a range.

Raw input is read from `ROOT/dt=YYYY-MM-DD/*.jsonl[.gz]`; each record carries
the day it was read from (`partition_date`) until it is written to
`OUTPUT/<output>/dt=YYYY-MM-DD/`. Days are ranked in date order: when the same
article is listed on several days, the earliest day keeps it and the later
days' copies are duplicates, whatever their publication times; within a day
the usual keep rule (``dedup.keep_rank``) decides.

Across backfills, the published-records index (``dedup_index.py``) holds
one folder a day, ``INDEX/dt=YYYY-MM-DD/run-YYYY-MM-DD-SSSSS-of-NNNNN.jsonl``:
the entries of the articles that day published. A backfill of days D1..Dn
reads the entries of the days before D1 only, deduplicates the range against
them (they rank before all its records) and replaces the folders of D1..Dn
with this run's entries. So a day's records depend on its input and on the
days before it, never on the days after it: rerunning a day with the same
input gives the same records, whatever was backfilled since. Rerunning a day
with other input changes what the later days should have been compared with;
they keep what they were given until they are rerun too. A kept article's
cluster_size counts the inputs of its own day (its copies on later days are
their days' duplicates) for the same reason.

Ingest runs and stream polls keep their entries at the top of the index and
do not read the day folders; a backfill does not read their entries (they
have no day to be ordered by).
"""

import datetime
import functools
import logging
from typing import Any, Dict, Iterable, List, Optional

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from transforms.dedup.batch import Deduplicate, Stub, keep_rank, stub_index_entry
from transforms.dedup.index import INDEX_GLOB, ReadPublished, index_file, index_shard, write_entries

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


# A backfill's index entries: one folder a day.
DAY_INDEX_FILES = '/'.join((partition_name('*'), INDEX_GLOB))


def day_index(index: str, day: str) -> str:
  """The folder of one day's index entries."""
  return FileSystems.join(index.rstrip('/'), partition_name(day))


def index_file_day(path: str) -> Optional[str]:
  """The day of an index file of a backfill (its folder's day)."""
  return partition_day(FileSystems.split(FileSystems.split(path)[0])[1])


def indexed_before(path: str, first_day: str) -> bool:
  """Whether an index file holds a day before `first_day` (the others are
  the range's own days, being replaced, and later days, which never make an
  earlier day's articles duplicates)."""
  day = index_file_day(path)
  return day is not None and day < first_day


def day_entry(stub: Stub, shards: int):
  """A kept record's Stub -> ((day, shard), its index entry), run = its day
  (the stub's partition), ranked earliest day first."""
  entry = stub_index_entry(stub, stub.partition)
  return (stub.partition, index_shard(stub.id, shards)), entry


def write_day_shard(keyed, index: str, shards: int) -> str:
  (day, shard), entries = keyed
  return write_entries(index_file(day_index(index, day), day, shard, shards), entries)


def remove_stale_entries(written: Iterable[str], index: str, days: List[str]) -> int:
  """Deletes the index files of `days` this run did not write: a day rerun
  with fewer articles (or none) keeps no entries of its earlier run. (This
  run's own writer reports every file it wrote, so an empty `written` means
  the days published nothing.)"""
  keep = set(written)
  patterns = [FileSystems.join(day_index(index, day), INDEX_GLOB) for day in days]
  stale = [
    m.path
    for result in FileSystems.match(patterns)
    for m in result.metadata_list
    if m.path not in keep
  ]
  if stale:
    FileSystems.delete(stale)
    logging.info('removed %d index files of an earlier backfill', len(stale))
  return len(stale)


def later_days_indexed(index: str, last_day: str) -> List[str]:
  """The days after `last_day` that the index holds entries of."""
  pattern = FileSystems.join(index.rstrip('/'), DAY_INDEX_FILES)
  days = {index_file_day(m.path) for m in FileSystems.match([pattern])[0].metadata_list}
  return sorted(day for day in days if day and day > last_day)


def warn_of_later_days(index: str, days: List[str]) -> List[str]:
  """Says which later days were compared with the range as an earlier
  backfill left it (they are not rerun by this one)."""
  later = later_days_indexed(index, days[-1])
  if later:
    logging.warning(
      'the index holds %d days after this backfill (%s to %s): they were '
      'compared with these days as an earlier backfill found them; if their '
      'input changed, rerun the later days too',
      len(later),
      later[0],
      later[-1],
    )
  return later


class WriteDayEntries(beam.PTransform):
  """Stubs of the range's kept records -> each day's index files, replacing the
  ones an earlier backfill of these days wrote; then a warning if the index
  holds days after the range."""

  def __init__(self, config: Dict[str, Any], index: str, days: List[str]):
    super().__init__()
    self._config = config
    self._index = index
    self._days = list(days)

  def expand(self, kept_stubs):
    written = (
      kept_stubs
      | 'Entries' >> beam.Map(day_entry, self._config['index_shards'])
      | 'GroupShards' >> beam.GroupByKey()
      | 'Write' >> beam.Map(write_day_shard, self._index, self._config['index_shards'])
      | 'Written' >> beam.combiners.ToList()
    )
    removed = written | 'RemoveStale' >> beam.Map(remove_stale_entries, self._index, self._days)
    return removed | 'LaterDays' >> beam.Map(
      lambda _, index, days: warn_of_later_days(index, days), self._index, self._days
    )


class DeduplicateAcrossDays(beam.PTransform):
  """Articles of every day of the range -> (kept, duplicates), an article
  listed again on a later day being a duplicate on that later day.

  This is the one place a backfill deduplicates. With an `index`, the range
  is also compared with the articles the days before it published (earlier
  backfills), and the range's days' entries are replaced by this run's.
  """

  def __init__(self, dedup_config: Dict[str, Any], days: List[str], index: Optional[str] = None):
    super().__init__()
    self._config = dedup_config
    self._days = sorted(days)
    self._index = index

  def expand(self, articles):
    published = None
    if self._index:
      published = articles.pipeline | 'ReadIndex' >> ReadPublished(
        self._index, DAY_INDEX_FILES, functools.partial(indexed_before, first_day=self._days[0])
      )
    dedup = Deduplicate(self._config, published, earliest_day_first, partition_of)
    kept, duplicates = articles | 'Dedup' >> dedup
    if self._index:
      # The kept records' stubs hold their entries: none is sketched again.
      dedup.kept_stubs | 'WriteIndex' >> WriteDayEntries(self._config, self._index, self._days)
    return kept, duplicates


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
