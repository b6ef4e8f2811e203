"""Deduplication across the days of a backfill, and the index's day folders.

Days are ranked in date order: when the same article is listed on several
days, the earliest day keeps it and the later days' copies are duplicates,
whatever their publication times; within a day the usual keep rule
(``rules.keep_rank``) decides.

Across backfills, the published-records index (``index.py``) holds one folder
a day, ``INDEX/dt=YYYY-MM-DD/run-YYYY-MM-DD-SSSSS-of-NNNNN.jsonl``: the
entries of the articles that day published. A backfill of days D1..Dn reads
the entries of the days before D1 only, deduplicates the range against them
(they rank before all its records) and replaces the folders of D1..Dn with
this run's entries, published with each day's outputs. So a day's records depend on its input and on the days
before it, never on the days after it: rerunning a day with the same input
gives the same records, whatever was backfilled since. Rerunning a day with
other input changes what the later days should have been compared with; they
keep what they were given until they are rerun too. A kept article's
cluster_size counts the inputs of its own day (its copies on later days are
their days' duplicates) for the same reason.

Ingest runs and stream polls keep their entries at the top of the index and
do not read the day folders; a backfill does not read their entries (they
have no day to be ordered by).
"""

import functools
import logging
from typing import Any, Dict, List, Optional

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from transforms.dedup.batch import Deduplicate
from transforms.dedup.index import (
  INDEX_GLOB,
  DeduplicateAgainstIndex,
  ReadPublished,
  index_file,
  index_shard,
  write_entries,
)
from transforms.dedup.rules import Stub, keep_rank, stub_index_entry
from transforms.io.partitions import PARTITION_FIELD, partition_day, partition_name, partition_of


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


def day_index_files(day: str) -> str:
  """The relative glob of one day's index files (what a backfill of the day
  publishes, replacing an earlier backfill's)."""
  return '/'.join((partition_name(day), INDEX_GLOB))


class WriteDayEntries(beam.PTransform):
  """Stubs of the range's kept records -> each day's index files, under
  `root` (the index, or the run's staging of it: each day's files are then
  published with the day's outputs, replacing the ones an earlier backfill of
  the day wrote); then a warning if the index holds days after the range."""

  def __init__(self, config: Dict[str, Any], index: str, days: List[str], root: str):
    super().__init__()
    self._config = config
    self._index = index
    self._days = list(days)
    self._root = root

  def expand(self, kept_stubs):
    written = (
      kept_stubs
      | 'Entries' >> beam.Map(day_entry, self._config['index_shards'])
      | 'GroupShards' >> beam.GroupByKey()
      | 'Write' >> beam.Map(write_day_shard, self._root, self._config['index_shards'])
      | 'Written' >> beam.combiners.ToList()
    )
    return written | 'LaterDays' >> beam.Map(
      lambda _, index, days: warn_of_later_days(index, days), self._index, self._days
    )


class DayIndex:
  """The index layout of backfills (see the module's docstring): reads the
  days before the range; writes the range's days under `staged` (published
  with each day's outputs) when given, else straight into the index."""

  def __init__(
    self, config: Dict[str, Any], index: str, days: List[str], staged: Optional[str] = None
  ):
    self._config = config
    self._index = index
    self._days = sorted(days)
    self._staged = staged

  def published(self, pipeline):
    return pipeline | 'ReadIndex' >> ReadPublished(
      self._index, DAY_INDEX_FILES, functools.partial(indexed_before, first_day=self._days[0])
    )

  def write(self, kept_stubs):
    return kept_stubs | 'WriteIndex' >> WriteDayEntries(
      self._config, self._index, self._days, self._staged or self._index
    )


def deduplicate_across_days(
  dedup_config: Dict[str, Any],
  days: List[str],
  index: Optional[str] = None,
  staged: Optional[str] = None,
) -> beam.PTransform:
  """Articles of every day of the range -> ``Deduplicated``, an article listed
  again on a later day being a duplicate on that later day; with an `index`,
  also against the articles the days before the range published, the
  range's days' entries (staged under `staged`, when given) replacing an
  earlier backfill's."""
  if index:
    return DeduplicateAgainstIndex(
      dedup_config, DayIndex(dedup_config, index, days, staged), earliest_day_first, partition_of
    )
  return Deduplicate(dedup_config, None, earliest_day_first, partition_of)
