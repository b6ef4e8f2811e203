"""Writing: the four outputs as JSON Lines or Parquet part files, and
summary.json.

Layout under --output (a local folder or a gs:// prefix):
  articles/part-SSSSS-of-NNNNN.jsonl[.gz]   clean records (or .parquet)
  duplicates/...                             with duplicate_of, similarity
  rejected/...                               with reason
  dead_letter/...                            url, feed_url, stage, error, raw
  summary.json                               counts
  report.html                                the counts as charts, for people

A run replaces the previous run's part files: after writing, part files of
an output that this run did not write are deleted (whatever their format),
so reruns leave no leftovers.

Parquet files carry a declared schema derived from ``schema.record_fields``:
one schema for articles, duplicates and rejected records (a field a record
does not carry is null), one for dead letters (``raw`` as text).
"""

import json
import logging
from collections import defaultdict
from typing import Any, Dict, Iterable, List, Optional, Tuple

import apache_beam as beam
import pyarrow as pa
from apache_beam.io.filesystems import FileSystems

from transforms import schema
from transforms.report import REPORT_FILE, render_report

SUMMARY_FILE = 'summary.json'
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


def output_folder(output: str, name: str, partition: Optional[str] = None
                  ) -> str:
  """Where one output's part files go: `output/name/`, or for one
  partition of a partitioned run `output/name/partition/`."""
  return output_path(output, name, *([partition] if partition else []))


def summary_path(output: str, partition: Optional[str] = None,
                 name: str = SUMMARY_FILE) -> str:
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


def build_summary(counts: Iterable[Tuple[Tuple[str, str], int]]
                  ) -> Dict[str, Any]:
  summary: Dict[str, Any] = {'outputs': {name: 0 for name in schema.OUTPUTS}}
  for section in ('languages', 'topics', 'rejected_reasons',
                  'dead_letter_stages', 'duplicate_rules',
                  'dead_letter_reasons'):
    summary[section] = {}
  grouped = defaultdict(dict)
  for (section, key), count in counts:
    grouped[section][key] = count
  for section, values in grouped.items():
    summary[section].update(sorted(values.items(),
                                   key=lambda kv: (-kv[1], kv[0])))
  summary['outputs'] = {name: summary['outputs'].get(name, 0)
                        for name in schema.OUTPUTS}
  summary['total'] = sum(summary['outputs'].values())
  return summary


def arrow_type(field_type: Any):
  """The Arrow type of a field type of ``schema.FIELD_TYPES``."""
  if isinstance(field_type, list):
    return pa.list_(arrow_type(field_type[0]))
  if isinstance(field_type, dict):
    return pa.struct([(name, arrow_type(sub))
                      for name, sub in field_type.items()])
  return {'string': pa.string(), 'int': pa.int64(),
          'float': pa.float64()}[field_type]


def arrow_schema(output: str):
  """The declared Parquet schema of one output's records."""
  return pa.schema([(name, arrow_type(field_type)) for name, field_type
                    in schema.record_fields(output).items()])


def typed_row(output: str, record: Dict[str, Any]) -> Dict[str, Any]:
  """The record as its declared schema holds it: every field, a dead
  letter's non-text `raw` as JSON."""
  row = {name: record.get(name) for name in schema.record_fields(output)}
  if output == schema.DEAD_LETTER and not isinstance(
      row['raw'], (str, type(None))):
    row['raw'] = json.dumps(row['raw'], ensure_ascii=False, default=str)
  return row


def write_summary(summary: Dict[str, Any], path: str) -> str:
  with FileSystems.create(path, mime_type='application/json') as f:
    f.write(json.dumps(summary, indent=2, ensure_ascii=False).encode('utf-8'))
  return path


def write_report(summary: Dict[str, Any], path: str,
                 taxonomy: Optional[Dict[str, str]] = None) -> str:
  with FileSystems.create(path, mime_type='text/html') as f:
    f.write(render_report(summary, taxonomy).encode('utf-8'))
  return path


def remove_stale_parts(written: List[str], folder: str) -> int:
  """Deletes part files in `folder` that this run did not write.

  A runner that does not report the written files (the BundleBasedDirectRunner
  gives none) would have this delete the run's own output; then nothing is
  deleted: a leftover part file is better than a lost run.
  """
  if not written:
    logging.warning('the runner did not report the files written in %s; '
                    'part files of earlier runs, if any, are left there',
                    folder)
    return 0
  keep = set(written)
  pattern = FileSystems.join(folder, PART_PREFIX + '*')
  stale = [m.path for m in FileSystems.match([pattern])[0].metadata_list
           if m.path not in keep]
  if stale:
    FileSystems.delete(stale)
    logging.info('removed %d part files of an earlier run in %s',
                 len(stale), folder)
  return len(stale)


class WriteRecords(beam.PTransform):
  """One output folder of JSON Lines (or Parquet) part files."""

  def __init__(self, output: str, name: str, compress: bool,
               file_format: str = JSONL, partition: Optional[str] = None):
    super().__init__()
    if file_format not in FORMATS:
      raise ValueError('unknown output format %r; known: %s'
                       % (file_format, ', '.join(FORMATS)))
    self._name = name
    self._folder = output_folder(output, name, partition)
    self._compress = compress
    self._format = file_format

  def expand(self, records):
    folder = self._folder
    prefix = FileSystems.join(folder, PART_PREFIX)
    if self._format == PARQUET:
      written = (records
                 | 'ToRow' >> beam.Map(lambda r, n=self._name: typed_row(n, r))
                 | 'Write' >> beam.io.WriteToParquet(
                     prefix, arrow_schema(self._name), codec='snappy',
                     file_name_suffix='.parquet'))
    else:
      written = (records
                 | 'ToJson' >> beam.Map(schema.to_json_line)
                 | 'Write' >> beam.io.WriteToText(
                     prefix, file_name_suffix='.jsonl.gz' if self._compress
                     else '.jsonl'))
    return (written
            | 'Written' >> beam.combiners.ToList()
            | 'RemoveStale' >> beam.Map(remove_stale_parts, folder))


class WriteOutputs(beam.PTransform):
  """Writes {output name: PCollection}, summary.json and report.html
  (topics named from `taxonomy` when given); with a `partition` (a
  backfill's `dt=YYYY-MM-DD`) under `name/partition/` and
  `summary/partition/`."""

  def __init__(self, output: str, compress: bool = False,
               file_format: str = JSONL, partition: Optional[str] = None,
               taxonomy: Optional[Dict[str, str]] = None):
    super().__init__()
    self._output = output
    self._compress = compress
    self._format = file_format
    self._partition = partition
    self._taxonomy = taxonomy

  def expand(self, outputs: Dict[str, Any]):
    counted = []
    for name in schema.OUTPUTS:
      records = outputs[name]
      records | 'Write_%s' % name >> WriteRecords(
          self._output, name, self._compress, self._format, self._partition)
      counted.append(records | 'SummaryKeys_%s' % name >> beam.FlatMap(
          lambda r, n=name: summary_keys(n, r)))
    path = summary_path(self._output, self._partition)
    summary = (counted
               | 'AllKeys' >> beam.Flatten()
               | 'Count' >> beam.combiners.Count.PerElement()
               | 'Collect' >> beam.combiners.ToList()
               | 'Summarize' >> beam.Map(build_summary))
    summary | 'WriteReport' >> beam.Map(
        write_report, summary_path(self._output, self._partition, REPORT_FILE),
        self._taxonomy)
    return summary | 'WriteSummary' >> beam.Map(write_summary, path)
