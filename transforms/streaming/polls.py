"""Local polls (the DirectRunner): first seen stamps, each poll's partition
written, read back and summarised, a failed poll forgotten."""

import collections
import json
import os
from typing import Any, Dict, List

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from transforms import schema
from transforms.io.sinks import PART_PREFIX, WriteRecords, build_summary, output_path, summary_keys
from transforms.streaming.clock import epoch_of, iso_of, latency_figures

# A poll's summary: summary/<poll>/summary.json (as a backfill's day).
SUMMARY_FOLDER = 'summary'


class StampFirstSeen(beam.PTransform):
  """Polls: each article gets ``first_seen_at``, from the sightings of
  earlier polls, else this poll's time."""

  def __init__(self, first_seen: Dict[str, str], seen_at: str):
    super().__init__()
    self._first_seen = first_seen
    self._seen_at = seen_at

  def expand(self, articles):
    return articles | 'Stamp' >> beam.Map(
      lambda a, seen, now: dict(a, first_seen_at=seen.get(a.get('url'), now)),
      self._first_seen,
      self._seen_at,
    )


class WritePoll(beam.PTransform):
  """{output name: records} -> part files under
  ``<output>/<name>/<partition>/``; returns the paths written."""

  def __init__(self, output: str, partition: str, compress: bool):
    super().__init__()
    self._output = output
    self._partition = partition
    self._compress = compress

  def expand(self, outputs):
    outputs = schema.by_output(outputs)
    return [
      outputs[name]
      | 'Write_%s' % name
      >> WriteRecords(output_path(self._output, name), self._partition, self._compress)
      for name in schema.OUTPUTS
    ] | 'Written' >> beam.Flatten()


def poll_summary(
  records: Dict[str, List[Dict[str, Any]]], partition: str, started: float, written: float
) -> Dict[str, Any]:
  """The poll's counts (as summary.json has them) and latencies: from the
  poll that first saw each article's URL to the poll's files written."""
  summary = build_summary(
    collections.Counter(
      key
      for name in schema.OUTPUTS
      for record in records[name]
      for key in summary_keys(name, record)
    ).items()
  )
  latencies = [
    written - epoch_of(a.get('first_seen_at'))
    for a in records[schema.ARTICLES]
    if epoch_of(a.get('first_seen_at')) is not None
  ]
  summary.update(
    poll=partition,
    started_at=iso_of(started),
    written_at=iso_of(written),
    latency_seconds=latency_figures(latencies),
  )
  return summary


def run_summary(polls: List[Dict[str, Any]]) -> Dict[str, Any]:
  """This run's totals over its polls, with the polls' summaries."""
  outputs = {name: sum(p['outputs'][name] for p in polls) for name in schema.OUTPUTS}
  return {'outputs': outputs, 'total': sum(outputs.values()), 'polls': polls}


def format_poll(summary: Dict[str, Any]) -> str:
  latency = summary['latency_seconds']
  line = '%s: %s' % (summary['poll'], '  '.join('%s %d' % kv for kv in summary['outputs'].items()))
  if latency['count']:
    line += '  latency p50 %.1f s, max %.1f s' % (latency['p50'], latency['max'])
  return line


def forget_poll(output: str, index: str, partition: str) -> None:
  """Removes what a failed poll wrote, index entries and part files: the
  next poll (which fetches the feeds again, their state not having been
  saved) must be free to publish those records whole."""
  patterns = [FileSystems.join(index.rstrip('/'), 'run-%s-*' % partition)]
  patterns += [output_path(output, name, partition, PART_PREFIX + '*') for name in schema.OUTPUTS]
  written = [m.path for result in FileSystems.match(patterns) for m in result.metadata_list]
  if written:
    FileSystems.delete(written)


def read_poll(output: str, partition: str) -> Dict[str, List[Dict[str, Any]]]:
  """The records one poll wrote, per output."""
  records = {}
  for name in schema.OUTPUTS:
    pattern = output_path(output, name, partition, PART_PREFIX + '*')
    records[name] = []
    for m in FileSystems.match([pattern])[0].metadata_list:
      with FileSystems.open(m.path) as f:
        records[name] += [
          json.loads(line) for line in f.read().decode('utf-8').splitlines() if line.strip()
        ]
  return records


def remove_empty_partition(output: str, partition: str) -> None:
  """A poll that wrote nothing to an output leaves no empty part file."""
  for name in schema.OUTPUTS:
    pattern = output_path(output, name, partition, PART_PREFIX + '*')
    parts = FileSystems.match([pattern])[0].metadata_list
    if parts and all(m.size_in_bytes == 0 for m in parts):
      FileSystems.delete([m.path for m in parts])
      folder = output_path(output, name, partition)
      if '://' not in folder:  # object stores have no folders to remove
        os.rmdir(folder)
