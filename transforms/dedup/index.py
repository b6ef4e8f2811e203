"""The published-records index: deduplication across runs.

Every run that publishes records writes one index entry per published
record (``dedup.index_entry``: body fingerprint, canonical URL key, MinHash
signature and shingle count, keep rank, id) into the index folder
(``<output>/_index`` unless another is given; local or gs://, through Beam's
FileSystems), as ``run-<run key>-SSSSS-of-NNNNN.jsonl``. A later run (the
next poll, a run into another output sharing the index) reads the entries of
the *other* runs and sends the records matching one of them, exactly or as
near-duplicates, to duplicates/ with ``duplicate_of`` set to the id
published earlier. Backfills keep their entries one folder a day, ordered by
day (see days.py).

An ingest run's key names its output (``output_run_key``): the entries
describe the records published there, and a run into the same output
replaces those records. So a run never compares its records with the entries
of the run it replaces (an article is recognised as itself, never as a
duplicate of itself), and when it publishes, its entries replace theirs
(files of the same key it did not write are deleted): whatever the inputs of
the earlier run, a rerun gives the records a first run would. Entries are
staged with the run's outputs and published with them (``transforms/io/
publish.py``): the index never names a record that no output holds. Runs
sharing an index are expected to run one after another.
"""

import hashlib
import json
import logging
import os
from typing import Any, Dict, Iterable, List, Optional

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from transforms.dedup.batch import STAGE, Deduplicate
from transforms.dedup.rules import keep_rank, one_partition, stub_index_entry

INDEX_FOLDER = '_index'
INDEX_GLOB = 'run-*.jsonl'
ENTRY_FIELDS = frozenset(('id', 'run', 'fingerprint', 'url_key', 'rank', 'signature', 'shingles'))


def default_index_path(output: str) -> str:
  return FileSystems.join(output.rstrip('/'), INDEX_FOLDER)


def index_file(index: str, run: str, shard: int, shards: int) -> str:
  return FileSystems.join(index.rstrip('/'), 'run-%s-%05d-of-%05d.jsonl' % (run, shard, shards))


def index_shard(record_id: str, shards: int) -> int:
  """The shard of a run's index files an entry goes to (ids are hex)."""
  return int(record_id[:8], 16) % shards


def output_run_key(output: str) -> str:
  """The run key of ingest runs into `output` (a local folder, taken as its
  absolute path, or a gs:// prefix): the same output, the same key."""
  if '://' not in output:
    output = os.path.abspath(output)
  return hashlib.sha256(output.rstrip('/').encode('utf-8')).hexdigest()[:16]


def parse_entries(readable) -> Iterable[Dict[str, Any]]:
  """The entries of one index file; unreadable lines are counted and left
  out (an index line is never worth failing a run)."""
  unreadable = Metrics.counter(STAGE, 'index_unreadable_lines')
  with readable.open() as f:
    for line in f:
      try:
        entry = json.loads(line)
        if isinstance(entry, dict) and ENTRY_FIELDS <= set(entry):
          yield entry
          continue
      except ValueError:
        pass
      unreadable.inc()
      logging.warning('unreadable index line in %s', readable.metadata.path)


class ReadPublished(beam.PTransform):
  """Every entry of the index (none if it does not exist yet): of the files
  matching `pattern` under it, those whose path `accept` takes (all by
  default), chosen before they are opened."""

  def __init__(self, index: str, pattern: str = INDEX_GLOB, accept=None):
    super().__init__()
    self._pattern = FileSystems.join(index.rstrip('/'), pattern)
    self._accept = accept

  def expand(self, pipeline):
    files = (
      pipeline
      | 'Pattern' >> beam.Create([self._pattern])
      | 'Match' >> fileio.MatchAll(empty_match_treatment=fileio.EmptyMatchTreatment.ALLOW)
    )
    if self._accept is not None:
      files = files | 'Accept' >> beam.Filter(
        lambda metadata, accept: accept(metadata.path), self._accept
      )
    return (
      files
      | 'Open' >> fileio.ReadMatches(compression=CompressionTypes.UNCOMPRESSED)
      | 'Parse' >> beam.FlatMap(parse_entries)
    )


def write_entries(path: str, entries: Iterable[Dict[str, Any]]) -> str:
  """Writes index entries sorted by id (same input, same bytes); a rerun
  overwrites the file it wrote before."""
  with FileSystems.create(path, mime_type='application/x-ndjson') as f:
    for entry in sorted(entries, key=lambda e: e['id']):
      f.write((json.dumps(entry, sort_keys=True) + '\n').encode('utf-8'))
  return path


def write_index_shard(keyed, index: str, shards: int) -> str:
  """Writes one shard of a run's entries."""
  shard, entries = keyed
  entries: List[Dict[str, Any]] = list(entries)
  return write_entries(index_file(index, entries[0]['run'], shard, shards), entries)


class WriteIndexEntries(beam.PTransform):
  """Index entries -> this run's index files."""

  def __init__(self, config: Dict[str, Any], index: str):
    super().__init__()
    self._config = config
    self._index = index

  def expand(self, entries):
    shards = self._config['index_shards']
    return (
      entries
      | 'Shard' >> beam.Map(lambda e: (index_shard(e['id'], shards), e))
      | 'GroupShards' >> beam.GroupByKey()
      | 'Write' >> beam.Map(write_index_shard, self._index, shards)
    )


class RunIndex:
  """Ingest runs and stream polls: entries at the top of the index, one set of
  files per run key (`run`: ``output_run_key`` for an ingest run, a poll's
  partition). A run reads the entries of the other run keys; its own are
  written under `staged` (``IndexFiles.staged``, published with the outputs)
  when given, else straight into the index."""

  def __init__(self, config: Dict[str, Any], index: str, run: str, staged: Optional[str] = None):
    self._config = config
    self._index = index
    self._run = run
    self._staged = staged

  def files(self) -> str:
    """The relative glob of this run key's index files."""
    return 'run-%s-*.jsonl' % self._run

  def published(self, pipeline):
    return (
      pipeline
      | 'ReadIndex' >> ReadPublished(self._index)
      | 'OtherRuns' >> beam.Filter(lambda e, own: e['run'] != own, self._run)
    )

  def write(self, kept_stubs):
    return (
      kept_stubs
      | 'Entries' >> beam.Map(stub_index_entry, self._run)
      | 'WriteIndex' >> WriteIndexEntries(self._config, self._staged or self._index)
    )


class DeduplicateAgainstIndex(beam.PTransform):
  """Deduplicate a run's articles among themselves and against the records
  earlier runs published, then add this run's kept records to the index.

  The one way every entry point dedups against the index: `layout` says
  which entries are read and where this run's go (``RunIndex`` for ingest
  runs and polls, ``days.DayIndex`` for backfills); `rank` and
  `partition` are ``Deduplicate``'s. -> ``Deduplicated``, whose kept
  articles follow the writing of the index files (a step that publishes the
  articles then finds their entries written).
  """

  def __init__(self, dedup_config: Dict[str, Any], layout, rank=keep_rank, partition=one_partition):
    super().__init__()
    self._config = dedup_config
    self._layout = layout
    self._rank = rank
    self._partition = partition

  def expand(self, articles):
    published = self._layout.published(articles.pipeline)
    result = articles | 'Deduplicate' >> Deduplicate(
      self._config, published, self._rank, self._partition
    )
    # The kept records' stubs hold their entries: no record is sketched twice.
    written = self._layout.write(result.kept_stubs)
    kept = result.articles | 'AfterIndex' >> beam.Map(
      lambda article, unused_written: article, beam.pvalue.AsList(written)
    )
    return result._replace(articles=kept)
