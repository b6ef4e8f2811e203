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

A run replaces the previous run's part files: after writing, part files of
an output that this run did not write are deleted (whatever their format),
so reruns leave no leftovers.

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
from transforms.io.report import REPORT_FILE, render_report

SUMMARY_FILE = 'summary.json'
# The summary's section of input records left out on purpose, by type.
SKIPPED = 'skipped'
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
    keys.append(('dead_letter_reasons', dead_letter_reason(record)))
  elif output == schema.DUPLICATES:
    keys.append(('duplicate_rules', record.get('duplicate_rule') or 'unknown'))
  return keys


def build_summary(counts: Iterable[Tuple[Tuple[str, str], int]]) -> Dict[str, Any]:
  summary: Dict[str, Any] = {'outputs': {name: 0 for name in schema.OUTPUTS}}
  for section in (
    'languages',
    'topics',
    'rejected_reasons',
    'dead_letter_stages',
    'duplicate_rules',
    'dead_letter_reasons',
  ):
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
  """(output name, record) -> in each bundle, one temporary part file per
  output it holds records of, and the bundle's summary counters: at the end
  of the bundle, ('part', (name, temporary path)) and ('counts', Counter).
  A bundle that fails reports nothing: its files are never published."""

  def __init__(self, folders: Dict[str, str], temp: str, compress: bool, file_format: str):
    self._folders = folders
    self._temp = temp
    self._compress = compress
    self._format = file_format

  def start_bundle(self):
    self._parts, self._counts = {}, Counter()

  def process(self, named):
    name, record = named
    part = self._parts.get(name)
    if part is None:
      path = FileSystems.join(
        self._folders[name],
        self._temp,
        uuid.uuid4().hex + part_suffix(self._compress, self._format),
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


def publish_parts(
  temporary: Dict[str, List[str]],
  folders: Dict[str, str],
  temp: str,
  compress: bool,
  file_format: str,
) -> None:
  """Renames each output's temporary part files to part-SSSSS-of-NNNNN (an
  output without records gets one empty part file), deletes the part files
  of earlier runs and the temporary folders."""
  suffix = part_suffix(compress, file_format)
  for name, folder in folders.items():
    paths = sorted(temporary.get(name, []))
    shards = max(len(paths), 1)
    final = [
      FileSystems.join(folder, '%s-%05d-of-%05d%s' % (PART_PREFIX, shard, shards, suffix))
      for shard in range(shards)
    ]
    remove_parts_except(final, folder)
    if paths:
      FileSystems.rename(paths, final)
    else:
      _PartFile(final[0], name, compress, file_format).close()
    # Files of bundles that failed and were retried; the folder itself
    # where the file system has folders.
    leftovers = FileSystems.join(folder, temp)
    stray = FileSystems.match([FileSystems.join(leftovers, '*')])[0]
    if stray.metadata_list:
      FileSystems.delete([m.path for m in stray.metadata_list])
    if FileSystems.exists(leftovers):
      FileSystems.delete([leftovers])


class _FinalizeFn(beam.DoFn):
  """Once, after every bundle wrote its part files: publishes them, then
  writes summary.json and report.html; -> the summary's path."""

  def __init__(self, folders, temp, compress, file_format, summary_file, report_file, taxonomy):
    self._folders, self._temp = folders, temp
    self._compress, self._format = compress, file_format
    self._summary_file, self._report_file = summary_file, report_file
    self._taxonomy = taxonomy

  def process(self, unused_impulse, written):
    temporary, counts = defaultdict(list), Counter()
    for kind, value in written:
      if kind == 'part':
        temporary[value[0]].append(value[1])
      else:
        counts.update(value)
    publish_parts(temporary, self._folders, self._temp, self._compress, self._format)
    summary = build_summary(counts.items())
    write_report(summary, self._report_file, self._taxonomy)
    yield write_summary(summary, self._summary_file)


class WriteOutputs(beam.PTransform):
  """Writes {output name: PCollection}, summary.json and report.html
  (topics named from `taxonomy` when given); with a `partition` (a
  backfill's `dt=YYYY-MM-DD`) under `name/partition/` and
  `summary/partition/`. `skipped`: the readers' ``Inputs.skipped``, counted
  by type in the summary's `skipped` section.

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
    self._skipped = skipped

  def expand(self, outputs):
    outputs = schema.by_output(outputs)
    folders = {name: output_folder(self._output, name, self._partition) for name in schema.OUTPUTS}
    # The temporary folder of this run's part files, in each output folder.
    temp = 'beam-temp-%s' % uuid.uuid4().hex
    named = [
      outputs[name] | 'Write_%s' % name >> beam.Map(lambda r, n=name: (n, r))
      for name in schema.OUTPUTS
    ]
    written = (
      named
      | 'AllOutputs' >> beam.Flatten()
      | 'WriteParts' >> beam.ParDo(_WritePartsFn(folders, temp, self._compress, self._format))
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
      >> beam.ParDo(
        _FinalizeFn(
          folders,
          temp,
          self._compress,
          self._format,
          summary_path(self._output, self._partition),
          summary_path(self._output, self._partition, REPORT_FILE),
          self._taxonomy,
        ),
        beam.pvalue.AsList(written),
      )
    )
