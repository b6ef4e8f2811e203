"""The streaming graph's time: first sightings in Beam state, event time,
fixed windows with early and late panes, one file per window, pane and
shard; latency measured as records are written."""

import logging
import time
import zlib
from typing import Any, Dict

import apache_beam as beam
from apache_beam.coders import StrUtf8Coder
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.transforms import trigger, window
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.utils.timestamp import Duration

from transforms import schema
from transforms.io.sinks import PART_PREFIX, output_path
from transforms.streaming.clock import epoch_of, event_time, iso_of

STAGE = 'stream'


class _FirstSeenFn(beam.DoFn):
  """(URL, article) -> the article with ``first_seen_at``: the processing
  time this URL first reached this step, kept in state until the horizon."""

  FIRST_SEEN = ReadModifyWriteStateSpec('first_seen', StrUtf8Coder())
  EXPIRY = TimerSpec('expiry', TimeDomain.WATERMARK)

  def __init__(self, horizon: Duration):
    self._horizon = horizon

  def process(
    self,
    keyed,
    timestamp=beam.DoFn.TimestampParam,
    first_seen=beam.DoFn.StateParam(FIRST_SEEN),
    expiry=beam.DoFn.TimerParam(EXPIRY),
  ):
    _, article = keyed
    seen_at = first_seen.read()
    if seen_at is None:
      seen_at = iso_of(time.time())
      first_seen.write(seen_at)
      expiry.set(timestamp + self._horizon)
    yield dict(article, first_seen_at=seen_at)

  @on_timer(EXPIRY)
  def forget(self, first_seen=beam.DoFn.StateParam(FIRST_SEEN)):
    first_seen.clear()


class RememberFirstSeen(beam.PTransform):
  def __init__(self, horizon: Duration):
    super().__init__()
    self._horizon = horizon

  def expand(self, articles):
    return (
      articles
      | 'ByUrl' >> beam.Map(lambda a: (a.get('url') or '', a))
      | 'FirstSeen' >> beam.ParDo(_FirstSeenFn(self._horizon))
    )


class StampEventTime(beam.PTransform):
  """Articles get their event time (see ``event_time``); their arrival is
  the timestamp they came with (the poll's tick, the Pub/Sub publish time,
  the file match)."""

  def __init__(self, lateness_seconds: float):
    super().__init__()
    self._lateness = lateness_seconds

  def expand(self, articles):
    return articles | 'EventTime' >> beam.Map(
      lambda a, lateness, arrived=beam.DoFn.TimestampParam: window.TimestampedValue(
        a, event_time(a, float(arrived), lateness)
      ),
      self._lateness,
    )


class _LatencyFn(beam.DoFn):
  """Records the latency of each article about to be written: a Beam
  distribution (milliseconds) and the worker's log."""

  def __init__(self):
    self._latency = Metrics.distribution(STAGE, 'latency_ms')

  def process(self, article):
    first_seen = epoch_of(article.get('first_seen_at'))
    if first_seen is not None:
      latency = time.time() - first_seen
      self._latency.update(int(latency * 1000))
      logging.info('article %s out %.1f s after first seen', article.get('id'), latency)
    yield article


class OutputWindows(beam.PTransform):
  """Records -> fixed event-time windows for output files.

  Trigger: a window's records are emitted ``early_firing_seconds`` after
  the first arrives (early panes, so a record waits seconds, not the
  window; 0: no early panes, as batch mode on the DirectRunner needs), again when the watermark passes the window's end, then once for
  each late record within the allowed lateness; later ones are dropped.
  Panes discard what they emitted, so each record is written once.
  """

  def __init__(self, stream_config: Dict[str, Any]):
    super().__init__()
    self._config = stream_config

  def expand(self, records):
    config = self._config
    early = (
      trigger.AfterProcessingTime(config['early_firing_seconds'])
      if config['early_firing_seconds']
      else None
    )
    return records | 'Window' >> beam.WindowInto(
      window.FixedWindows(config['window_minutes'] * 60),
      trigger=trigger.AfterWatermark(early=early, late=trigger.AfterCount(1)),
      allowed_lateness=config['allowed_lateness_minutes'] * 60,
      accumulation_mode=trigger.AccumulationMode.DISCARDING,
    )


def window_file_name(start: float, end: float, pane: int, shard: int, shards: int) -> str:
  """A file of one pane of one window: a late pane gets its own file
  instead of replacing the on-time one (fileio.WriteToFiles names files by
  window only), and a retried pane rewrites the same file."""
  return '%s-%s-%s-pane%03d-%05d-of-%05d.jsonl' % (
    PART_PREFIX,
    time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(start)),
    time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(end)),
    pane,
    shard,
    shards,
  )


class _WritePaneFn(beam.DoFn):
  """(shard, JSON lines of one pane) -> the file written."""

  def __init__(self, folder: str, shards: int):
    self._folder = folder
    self._shards = shards

  def process(self, keyed, win=beam.DoFn.WindowParam, pane=beam.DoFn.PaneInfoParam):
    shard, lines = keyed
    lines = sorted(lines)
    if not lines:  # an on-time pane fires even when empty
      return
    path = FileSystems.join(
      self._folder,
      window_file_name(float(win.start), float(win.end), pane.index, shard, self._shards),
    )
    with FileSystems.create(path, mime_type='application/x-ndjson') as f:
      for line in lines:
        f.write((line + '\n').encode('utf-8'))
    yield path


class WriteWindows(beam.PTransform):
  """{output name: records} -> JSON Lines files under ``<output>/<name>/``,
  one per window, pane and shard (see ``window_file_name``); returns the
  paths written."""

  def __init__(self, output: str, stream_config: Dict[str, Any]):
    super().__init__()
    self._output = output
    self._config = stream_config

  def expand(self, outputs):
    outputs = schema.by_output(outputs)
    shards = self._config['shards_per_window']
    written = []
    for name in schema.OUTPUTS:
      records = outputs[name]
      if name == schema.ARTICLES:
        records = records | 'Latency' >> beam.ParDo(_LatencyFn())
      written.append(
        records
        | 'Windows_%s' % name >> OutputWindows(self._config)
        | 'ToJson_%s' % name >> beam.Map(schema.to_json_line)
        | 'Shard_%s' % name
        >> beam.Map(lambda line, n: (zlib.crc32(line.encode('utf-8')) % n, line), shards)
        | 'Panes_%s' % name >> beam.GroupByKey()
        | 'Write_%s' % name >> beam.ParDo(_WritePaneFn(output_path(self._output, name), shards))
      )
    return written | 'Written' >> beam.Flatten()
