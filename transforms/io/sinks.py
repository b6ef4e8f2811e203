"""Writing: the four outputs as JSON Lines or Parquet part files, and
summary.json.

Layout under --output (a local folder or a gs:// prefix):
  articles/part-SSSSS-of-NNNNN.jsonl[.gz]   clean records (or .parquet)
  duplicates/...                             with duplicate_of, similarity
  rejected/...                               with reason
  dead_letter/...                            url, feed_url, stage, error, raw
  summary.json                               counts (and `skipped`: input
                                             records left out on purpose, by type)
  report.html                                the counts as charts, for people

A batch run (``WriteOutputs``) publishes only when it has succeeded, and
then all at once (``publish.py``): every file is written under
`OUTPUT/_staging/`, then moved into place by one short step that also
deletes the previous run's part files (whatever their format) and publishes
the run's index entries. A run that fails, or finds nothing readable in its
inputs (``require_input``), leaves the previous outputs as they were.

Parquet files carry the declared schema of ``schema.output_schema``:
one schema for articles, duplicates and rejected records (a field a record
does not carry is null), one for dead letters (``raw`` as text).
"""

import json
import logging
import uuid
from collections import Counter, defaultdict
from typing import Any, Dict, Iterable, List, Optional, Tuple

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms.window import GlobalWindows

from transforms import schema
from transforms.io import progress
from transforms.io.feeds import STAGE_READ_FEED
from transforms.io.publish import (
  MANIFEST_FILE,
  RENAME,
  IndexFiles,
  index_operations,
  new_token,
  publish,
  remove_staging,
  replacing,
  staging_folder,
  write_manifest,
)
from transforms.io.report import REPORT_FILE, render_report
from transforms.io.scraped import STAGE_READ_SCRAPED

SUMMARY_FILE = 'summary.json'
# The summary's section of input records left out on purpose, by type.
SKIPPED = 'skipped'
DEAD_LETTER_REASONS = 'dead_letter_reasons'
_COUNTS = ('languages', 'topics', 'rejected_reasons', 'dead_letter_stages', 'duplicate_rules')
# The summary's sections of counts every summary holds, empty or not ...
FIXED_SECTIONS = _COUNTS + (DEAD_LETTER_REASONS,)
# ... and those a run prints, in order, when not empty (the dead letters'
# reasons are printed apart, the first few only).
PRINTED_SECTIONS = _COUNTS + (SKIPPED,)
SUMMARY_FOLDER = 'summary'
PART_PREFIX = 'part'
JSONL = 'jsonl'
PARQUET = 'parquet'
FORMATS = (JSONL, PARQUET)


def output_path(output: str, *names: str) -> str:
  return FileSystems.join(output.rstrip('/'), *names)


def dead_letter_reason(record: Dict[str, Any]) -> str:
  """A dead letter's reason for counting: its stage and the error up to the
  first ': ' (what follows names the input: a path, a position, a value)."""
  error = str(record.get('error') or 'unknown').split(': ', 1)[0]
  return '%s: %s' % (record.get('stage') or 'unknown', error[:100])


def output_folder(output: str, name: str, partition: Optional[str] = None) -> str:
  """Where one output's part files go: `output/name/`, or for one
  partition of a partitioned run `output/name/partition/`."""
  return output_path(output, name, *([partition] if partition else []))


def summary_path(output: str, partition: Optional[str] = None, name: str = SUMMARY_FILE) -> str:
  """`output/summary.json`, or `output/summary/partition/summary.json` (the
  run report, `name`=report.html, goes beside it)."""
  if partition:
    return output_path(output, SUMMARY_FOLDER, partition, name)
  return output_path(output, name)


def summary_keys(output: str, record: Dict[str, Any]) -> List[Tuple[str, str]]:
  """The summary counters one written record adds to."""
  keys = [('outputs', output)]
  if output == schema.ARTICLES:
    keys.append(('languages', record.get('language') or 'unknown'))
    for topic in record.get('topics') or []:
      keys.append(('topics', topic['code']))
    if not record.get('topics'):
      keys.append(('topics', 'none'))
  elif output == schema.REJECTED:
    keys.append(('rejected_reasons', record.get('reason') or 'unknown'))
  elif output == schema.DEAD_LETTER:
    keys.append(('dead_letter_stages', record.get('stage') or 'unknown'))
    keys.append((DEAD_LETTER_REASONS, dead_letter_reason(record)))
  elif output == schema.DUPLICATES:
    keys.append(('duplicate_rules', record.get('duplicate_rule') or 'unknown'))
  return keys


def build_summary(counts: Iterable[Tuple[Tuple[str, str], int]]) -> Dict[str, Any]:
  summary: Dict[str, Any] = {'outputs': {name: 0 for name in schema.OUTPUTS}}
  for section in FIXED_SECTIONS:
    summary[section] = {}
  grouped = defaultdict(dict)
  for (section, key), count in counts:
    grouped[section][key] = count
  for section, values in grouped.items():
    # Sections beyond the fixed ones (`skipped`) appear only when counted.
    summary.setdefault(section, {}).update(sorted(values.items(), key=lambda kv: (-kv[1], kv[0])))
  summary['outputs'] = {name: summary['outputs'].get(name, 0) for name in schema.OUTPUTS}
  summary['total'] = sum(summary['outputs'].values())
  return summary


def typed_row(output: str, record: Dict[str, Any]) -> Dict[str, Any]:
  """The record as its declared schema holds it: every field, a dead
  letter's non-text `raw` as JSON."""
  row = {name: record.get(name) for name in schema.output_schema(output).names}
  if output == schema.DEAD_LETTER and not isinstance(row['raw'], (str, type(None))):
    row['raw'] = json.dumps(row['raw'], ensure_ascii=False, default=str)
  return row


def write_summary(summary: Dict[str, Any], path: str) -> str:
  with FileSystems.create(path, mime_type='application/json') as f:
    f.write(json.dumps(summary, indent=2, ensure_ascii=False).encode('utf-8'))
  return path


def write_report(
  summary: Dict[str, Any], path: str, taxonomy: Optional[Dict[str, str]] = None
) -> str:
  with FileSystems.create(path, mime_type='text/html') as f:
    f.write(render_report(summary, taxonomy).encode('utf-8'))
  return path


def part_suffix(compress: bool, file_format: str) -> str:
  if file_format == PARQUET:
    return '.parquet'
  return '.jsonl.gz' if compress else '.jsonl'


def remove_stale_parts(written: List[str], folder: str) -> int:
  """Deletes part files in `folder` that this run did not write.

  A runner that does not report the written files (the BundleBasedDirectRunner
  gives none) would have this delete the run's own output; then nothing is
  deleted: a leftover part file is better than a lost run.
  """
  if not written:
    logging.warning(
      'the runner did not report the files written in %s; '
      'part files of earlier runs, if any, are left there',
      folder,
    )
    return 0
  return remove_parts_except(written, folder)


def remove_parts_except(written: List[str], folder: str) -> int:
  """Deletes the part files in `folder` not named in `written`."""
  keep = set(written)
  pattern = FileSystems.join(folder, PART_PREFIX + '*')
  stale = [m.path for m in FileSystems.match([pattern])[0].metadata_list if m.path not in keep]
  if stale:
    FileSystems.delete(stale)
    logging.info('removed %d part files of an earlier run in %s', len(stale), folder)
  return len(stale)


class WriteRecords(beam.PTransform):
  """One output folder of JSON Lines (or Parquet) part files."""

  def __init__(
    self,
    output: str,
    name: str,
    compress: bool,
    file_format: str = JSONL,
    partition: Optional[str] = None,
  ):
    super().__init__()
    if file_format not in FORMATS:
      raise ValueError('unknown output format %r; known: %s' % (file_format, ', '.join(FORMATS)))
    self._name = name
    self._folder = output_folder(output, name, partition)
    self._compress = compress
    self._format = file_format

  def expand(self, records):
    folder = self._folder
    prefix = FileSystems.join(folder, PART_PREFIX)
    if self._format == PARQUET:
      written = (
        records
        | 'ToRow' >> beam.Map(lambda r, n=self._name: typed_row(n, r))
        | 'Write'
        >> beam.io.WriteToParquet(
          prefix,
          schema.output_schema(self._name),
          codec='snappy',
          file_name_suffix=part_suffix(False, PARQUET),
        )
      )
    else:
      written = (
        records
        | 'ToJson' >> beam.Map(schema.to_json_line)
        | 'Write'
        >> beam.io.WriteToText(prefix, file_name_suffix=part_suffix(self._compress, JSONL))
      )
    return (
      written
      | 'Written' >> beam.combiners.ToList()
      | 'RemoveStale' >> beam.Map(remove_stale_parts, folder)
    )


class _PartFile:
  """One part file being written: JSON lines as they come, or Parquet row
  groups of `ROW_GROUP` rows."""

  ROW_GROUP = 1000

  def __init__(self, path: str, name: str, compress: bool, file_format: str):
    self.path = path
    self._name, self._format = name, file_format
    self._file = FileSystems.create(
      path,
      compression_type=CompressionTypes.GZIP
      if compress and file_format == JSONL
      else CompressionTypes.UNCOMPRESSED,
    )
    self._rows, self._parquet = [], None

  def write(self, record: Dict[str, Any]) -> None:
    if self._format == JSONL:
      self._file.write(schema.to_json_line(record).encode('utf-8') + b'\n')
      return
    self._rows.append(typed_row(self._name, record))
    if len(self._rows) >= self.ROW_GROUP:
      self._flush_rows()

  def _flush_rows(self) -> None:
    declared = schema.output_schema(self._name)
    if self._parquet is None:
      self._parquet = pq.ParquetWriter(self._file, declared, compression='snappy')
    self._parquet.write_table(pa.Table.from_pylist(self._rows, declared))
    self._rows = []

  def close(self) -> None:
    if self._format == PARQUET:
      if self._rows or self._parquet is None:
        self._flush_rows()
      self._parquet.close()
    self._file.close()


class _WritePartsFn(beam.DoFn):
  """(output name, record) -> in each bundle, one staged part file per
  output it holds records of, and the bundle's summary counters: at the end
  of the bundle, ('part', (name, staged path)) and ('counts', Counter).
  A bundle that fails reports nothing: its files are never published."""

  def __init__(self, staged: str, compress: bool, file_format: str):
    self._staged = staged
    self._compress = compress
    self._format = file_format

  def start_bundle(self):
    self._parts, self._counts = {}, Counter()

  def process(self, named):
    name, record = named
    part = self._parts.get(name)
    if part is None:
      path = FileSystems.join(
        self._staged, name, uuid.uuid4().hex + part_suffix(self._compress, self._format)
      )
      part = self._parts[name] = _PartFile(path, name, self._compress, self._format)
    part.write(record)
    self._counts.update(summary_keys(name, record))
    progress.count(progress.WRITTEN)

  def finish_bundle(self):
    progress.flush()
    for name, part in self._parts.items():
      part.close()
      yield GlobalWindows.windowed_value(('part', (name, part.path)))
    if self._counts:
      yield GlobalWindows.windowed_value(('counts', self._counts))


# Where a dead letter means that an input could not be read at all.
READ_STAGES = frozenset((STAGE_READ_FEED, STAGE_READ_SCRAPED))
NOTHING_READABLE = 'nothing readable in the inputs'


class NothingReadable(RuntimeError):
  """No input could be read: every glob empty, every feed unreachable, every
  line unreadable."""


def nothing_readable(summary: Dict[str, Any]) -> bool:
  """Whether every input failed to be read: the run's records are all dead
  letters of reading. A run with no records at all read its inputs and
  found nothing new in them (feeds answering 304 Not Modified, an empty
  file): not a failure."""
  outputs = summary['outputs']
  if outputs[schema.ARTICLES] or outputs[schema.DUPLICATES] or outputs[schema.REJECTED]:
    return False
  return bool(outputs[schema.DEAD_LETTER]) and set(summary['dead_letter_stages']) <= READ_STAGES


def nothing_readable_message(summary: Dict[str, Any], output: str) -> str:
  reasons = '; '.join(
    '%s (%d)' % (reason, count) for reason, count in summary[DEAD_LETTER_REASONS].items()
  )
  return '%s: no page was read (%s); the outputs under %s were left as they were' % (
    NOTHING_READABLE,
    reasons or 'no input records at all',
    output,
  )


def part_operations(
  staged: Dict[str, List[str]],
  folders: Dict[str, str],
  empty: Dict[str, str],
  suffix: str,
) -> List[List[str]]:
  """Renames of each output's staged part files to part-SSSSS-of-NNNNN (an
  output without records publishes the empty part file staged for it at
  `empty[name]`), then deletes of the part files of earlier runs."""
  renames, deletes = [], []
  for name, folder in folders.items():
    paths = sorted(staged.get(name, [])) or [empty[name]]
    final = [
      FileSystems.join(folder, '%s-%05d-of-%05d%s' % (PART_PREFIX, shard, len(paths), suffix))
      for shard in range(len(paths))
    ]
    renames += [[RENAME, path, target] for path, target in zip(paths, final)]
    deletes += replacing(final, FileSystems.join(folder, PART_PREFIX + '*'))
  return renames + deletes


class _FinalizeFn(beam.DoFn):
  """Once, after every bundle staged its part files (and the index its
  entries): stages summary.json and report.html, writes the publish manifest
  and carries it out; -> the summary's path. With `require_input`, a run
  that read nothing fails instead, its staging removed."""

  def __init__(self, write: 'WriteOutputs', staged: str, folders: Dict[str, str]):
    self._output, self._index = write._output, write._index
    self._compress, self._format = write._compress, write._format
    self._require_input, self._taxonomy = write._require_input, write._taxonomy
    self._summary_file = summary_path(write._output, write._partition)
    self._report_file = summary_path(write._output, write._partition, REPORT_FILE)
    self._staged, self._folders = staged, folders

  def _staging(self) -> List[str]:
    """The staging folders this publish removes when done."""
    folders = [self._staged]
    if self._index is not None:
      subfolder = self._index.files.rpartition('/')[0]
      staged = self._index.staged()
      folders.append(FileSystems.join(staged, subfolder) if subfolder else staged)
    return folders

  def process(self, unused_impulse, written):
    temporary, counts = defaultdict(list), Counter()
    for kind, value in written:
      if kind == 'part':
        temporary[value[0]].append(value[1])
      else:
        counts.update(value)
    summary = build_summary(counts.items())
    if self._require_input and nothing_readable(summary):
      for folder in self._staging():
        remove_staging(folder)
      raise NothingReadable(nothing_readable_message(summary, self._output))
    suffix = part_suffix(self._compress, self._format)
    empty = {}
    for name in self._folders:
      if not temporary.get(name):
        empty[name] = FileSystems.join(self._staged, name, 'empty' + suffix)
        _PartFile(empty[name], name, self._compress, self._format).close()
    operations = part_operations(temporary, self._folders, empty, suffix)
    if self._index is not None:
      operations += index_operations(self._index)
    staged_report = write_report(
      summary, FileSystems.join(self._staged, REPORT_FILE), self._taxonomy
    )
    staged_summary = write_summary(summary, FileSystems.join(self._staged, SUMMARY_FILE))
    operations += [
      [RENAME, staged_report, self._report_file],
      [RENAME, staged_summary, self._summary_file],
    ]
    manifest = FileSystems.join(self._staged, MANIFEST_FILE)
    publish(write_manifest(manifest, operations, self._staging()))
    yield self._summary_file


class WriteOutputs(beam.PTransform):
  """Writes {output name: PCollection}, summary.json and report.html
  (topics named from `taxonomy` when given); with a `partition` (a
  backfill's `dt=YYYY-MM-DD`) under `name/partition/` and
  `summary/partition/`. `skipped`: the readers' ``Inputs.skipped``, counted
  by type in the summary's `skipped` section.

  Nothing is visible until the run has succeeded: the files are staged
  under `OUTPUT/_staging/<token>/` and published together by one step, with
  the run's `index` entries when given (see ``publish.py``). A run that reads
  nothing at all fails when `require_input` is set, publishing nothing.

  All four outputs go through one writing step, fused with the stages that
  produce the records (each bundle writes its own part files and counts),
  and one step that publishes the files and the summary: a few stages in
  all where a WriteToText per output and a counting pipeline for the
  summary took some thirty, each a start-up cost on every worker. For
  bounded inputs in the global window (the batch pipelines); a stream's
  windows are written by ``WriteRecords``."""

  def __init__(
    self,
    output: str,
    compress: bool = False,
    file_format: str = JSONL,
    partition: Optional[str] = None,
    taxonomy: Optional[Dict[str, str]] = None,
    index: Optional[IndexFiles] = None,
    token: Optional[str] = None,
    require_input: bool = False,
    skipped: Optional[beam.PCollection] = None,
  ):
    super().__init__()
    if file_format not in FORMATS:
      raise ValueError('unknown output format %r; known: %s' % (file_format, ', '.join(FORMATS)))
    self._output = output
    self._compress = compress
    self._format = file_format
    self._partition = partition
    self._taxonomy = taxonomy
    self._index = index
    # The run's token: its index entries are staged under the same one.
    self._token = token or (index.token if index is not None else new_token())
    self._require_input = require_input
    self._skipped = skipped

  def expand(self, outputs):
    outputs = schema.by_output(outputs)
    folders = {name: output_folder(self._output, name, self._partition) for name in schema.OUTPUTS}
    staged = staging_folder(
      self._output, self._token, *([self._partition] if self._partition else [])
    )
    named = [
      outputs[name] | 'Write_%s' % name >> beam.Map(lambda r, n=name: (n, r))
      for name in schema.OUTPUTS
    ]
    written = (
      named
      | 'AllOutputs' >> beam.Flatten()
      | 'WriteParts' >> beam.ParDo(_WritePartsFn(staged, self._compress, self._format))
    )
    if self._skipped is not None:
      # Counted, not written: what the readers left out on purpose.
      counts = (
        self._skipped
        | 'SkippedTypes' >> beam.Map(lambda skipped: skipped['type'])
        | 'CountSkipped' >> beam.combiners.Count.PerElement()
        | 'SkippedCounts' >> beam.Map(lambda kv: ('counts', Counter({(SKIPPED, kv[0]): kv[1]})))
      )
      written = (written, counts) | 'WrittenAndSkipped' >> beam.Flatten()
    return (
      named[0].pipeline
      | 'Once' >> beam.Create([None])
      | 'WriteSummary'
      >> beam.ParDo(_FinalizeFn(self, staged, folders), beam.pvalue.AsList(written))
    )
