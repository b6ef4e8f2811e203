"""Streaming: polls, sightings, event time, windowed output, latency.

Two ways to run the same stages (``ProcessArticles``, dedup, classify):

* the streaming graph (Dataflow, ``--streaming``): feeds polled by a
  ``PeriodicImpulse`` with conditional GET kept in Beam state per feed URL,
  a Pub/Sub subscription of scraped page records or feed URLs, new files
  under a watched prefix (``fileio.MatchContinuously``); dedup with state
  and timers (``transforms/dedup/streams.py``); fixed event-time windows
  written one file per window, pane and shard;
* polls (the DirectRunner): each poll is one bounded pipeline over the
  feeds and the new watched files, with conditional GET through a fetch
  state file and dedup against the published-records index that all polls
  share (``transforms/dedup/index.py``); each poll writes its own partition,
  ``<output>/<articles|duplicates|...>/poll=YYYYMMDDTHHMMSSZ/``.

Either way each record remembers when an item (a URL) was first seen
(``first_seen_at``), and the time from then to the record being written is
the latency reported.
"""

import calendar
import collections
import json
import logging
import math
import os
import re
import time
import zlib
from typing import Any, Dict, Iterable, List, Optional, Tuple

import apache_beam as beam
from apache_beam.coders import StrUtf8Coder
from apache_beam.io import fileio
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.transforms import trigger, window
from apache_beam.transforms.periodicsequence import PeriodicImpulse
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.utils.timestamp import MAX_TIMESTAMP, Duration, Timestamp

from transforms import schema
from transforms.fetch.client import FetchOptions
from transforms.fetch.state import FETCH_STATE
from transforms.io.feeds import ReadFeedDocuments
from transforms.io.scraped import ReadScrapedFiles, parse_scraped_line
from transforms.io.sinks import PART_PREFIX, WriteRecords, build_summary, output_path, summary_keys
from transforms.schema import DEAD_LETTER
from transforms.text.urls import is_url

STAGE = 'stream'
STATE_FOLDER = '_stream'
# A poll's summary: summary/<poll>/summary.json (as a backfill's day).
SUMMARY_FOLDER = 'summary'
FIRST_SEEN_FILE = 'first_seen.json'
WATCHED_FILE = 'watched.json'
FETCH_STATE_FILE = 'fetch_state.json'
# Watched files with these endings are scraped page records; others feeds.
SCRAPED_ENDINGS = ('.jsonl', '.jsonl.gz', '.ndjson', '.ndjson.gz')
_ISO = '%Y-%m-%dT%H:%M:%SZ'
_POLL_FORMAT = 'poll=%Y%m%dT%H%M%SZ'
# Index files of polls: run-<poll name>-SSSSS-of-NNNNN.jsonl
_POLL_INDEX_FILE = re.compile(r'run-(poll=\d{8}T\d{6}Z)-\d+-of-\d+\.jsonl$')


# --- Times -----------------------------------------------------------------


def iso_of(epoch: float) -> str:
  return time.strftime(_ISO, time.gmtime(epoch))


def epoch_of(iso: Optional[str]) -> Optional[float]:
  """Seconds since the epoch of an ISO 8601 UTC time as records hold them
  (fractions of a second allowed); None if absent or unreadable."""
  if not iso:
    return None
  text, _, fraction = iso.rstrip('Z').partition('.')
  try:
    whole = calendar.timegm(time.strptime(text, '%Y-%m-%dT%H:%M:%S'))
    return whole + (float('0.' + fraction) if fraction else 0.0)
  except ValueError:
    return None


def poll_partition(epoch: float) -> str:
  """The folder name of a poll's outputs, sortable by time."""
  return time.strftime(_POLL_FORMAT, time.gmtime(epoch))


def poll_time(partition: str) -> Optional[float]:
  """When a poll started, from its name; None if not a poll's name."""
  try:
    return calendar.timegm(time.strptime(partition, _POLL_FORMAT))
  except ValueError:
    return None


def event_time(record: Dict[str, Any], arrived: float, lateness: float) -> float:
  """A record's event time: published_at, else its arrival.

  Clamped to [arrived - lateness, arrived]: a feed listing an old item for
  the first time (or a backfill) must not have it dropped as late data, and
  a date in the future must not hold a window open.
  """
  published = epoch_of(record.get('published_at'))
  if published is None:
    return arrived
  return min(arrived, max(published, arrived - lateness))


def latency_figures(seconds: Iterable[float]) -> Dict[str, Any]:
  """count, p50, p90 and max of latencies in seconds (nearest rank)."""
  ordered = sorted(seconds)
  if not ordered:
    return {'count': 0, 'p50': None, 'p90': None, 'max': None}

  def rank(q):
    return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)], 3)

  return {'count': len(ordered), 'p50': rank(0.5), 'p90': rank(0.9), 'max': round(ordered[-1], 3)}


# --- State kept between polls (local runs) ----------------------------------


def state_path(output: str, name: str) -> str:
  return output_path(output, STATE_FOLDER, name)


def load_json(path: str, default):
  """A small JSON state file; ``default`` when missing or unreadable (a
  lost state means items seen again count as new sightings, nothing
  worse: dedup still has the index)."""
  try:
    if not FileSystems.exists(path):
      return default
    with FileSystems.open(path) as f:
      value = json.loads(f.read().decode('utf-8'))
  except Exception as e:
    logging.warning('stream state %s unreadable, starting afresh: %s', path, e)
    return default
  return value if isinstance(value, type(default)) else default


def save_json(path: str, value) -> None:
  with FileSystems.create(path, mime_type='application/json') as f:
    f.write(json.dumps(value, indent=1, sort_keys=True).encode('utf-8'))


def record_sightings(
  first_seen: Dict[str, str], urls: Iterable[str], seen_at: str, now: float, horizon: float
) -> Dict[str, str]:
  """The first-seen times after a poll that saw ``urls`` at ``seen_at``:
  earlier sightings kept, those older than the horizon forgotten (as dedup
  forgets them)."""
  kept = {url: at for url, at in first_seen.items() if (epoch_of(at) or 0) + horizon > now}
  for url in urls:
    if url:
      kept.setdefault(url, seen_at)
  return kept


def prune_index(index: str, now: float, horizon: float) -> int:
  """Deletes the index files of polls older than the horizon, so polls
  forget published stories as the streaming graph's timers do (and the
  index read by each poll stops growing). Other runs' files are kept."""
  pattern = FileSystems.join(index.rstrip('/'), 'run-poll=*')
  try:
    files = FileSystems.match([pattern])[0].metadata_list
  except Exception:  # no index yet
    return 0
  old = [
    m.path
    for m in files
    if (
      _POLL_INDEX_FILE.search(m.path)
      and poll_time(_POLL_INDEX_FILE.search(m.path).group(1)) + horizon <= now
    )
  ]
  if old:
    FileSystems.delete(old)
  return len(old)


def is_scraped_file(path: str) -> bool:
  return path.lower().endswith(SCRAPED_ENDINGS)


def watch_pattern(prefix: str) -> str:
  """A watched prefix as a glob: a folder's files, or the glob as given."""
  if any(c in prefix for c in '*?['):
    return prefix
  return prefix.rstrip('/') + '/*'


def new_watched_files(prefix: str, seen: Dict[str, int]) -> List[Tuple[str, int]]:
  """Files under the prefix not read before (a file rewritten with another
  size is read again), as (path, size), by path."""
  try:
    found = FileSystems.match([watch_pattern(prefix)])[0].metadata_list
  except Exception as e:  # a missing folder: nothing new yet
    logging.info('nothing to watch under %s yet: %s', prefix, e)
    return []
  return sorted((m.path, m.size_in_bytes) for m in found if seen.get(m.path) != m.size_in_bytes)


def parse_message(data: bytes, max_bytes: int) -> Tuple[str, Any]:
  """A Pub/Sub message -> ('feed', URL), or what ``parse_scraped_line``
  gives for a scraped page record ('page' or 'dead_letter')."""
  text = data.strip()
  if is_url(text[:8].decode('ascii', 'replace')) and b'\n' not in text:
    return 'feed', text.decode('utf-8', 'replace')
  return parse_scraped_line(data, max_bytes, 'pubsub message')


# --- Stages shared by polls and the streaming graph --------------------------


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


# --- The streaming graph ------------------------------------------------------


class _PollFeedFn(ReadFeedDocuments):
  """(feed URL, tick) -> the feed's entries, fetched conditionally with the
  validators kept in Beam state for that URL (no state file in streams)."""

  VALIDATORS = ReadModifyWriteStateSpec('validators', StrUtf8Coder())

  def process(self, keyed, validators=beam.DoFn.StateParam(VALIDATORS)):
    url, _ = keyed
    kept = validators.read()
    # ReadFeedDocuments looks validators up in its state map: give it this
    # URL's, and keep what it emits on FETCH_STATE in Beam state instead.
    self._state = {url: json.loads(kept)} if kept else {}
    for output in super().process(url):
      if isinstance(output, beam.pvalue.TaggedOutput) and (output.tag == FETCH_STATE):
        if output.value[1]:
          validators.write(json.dumps(output.value[1], sort_keys=True))
        else:
          validators.clear()
      else:
        yield output


class PollFeeds(beam.PTransform):
  """Feed URLs fetched every ``interval`` seconds -> (pages, dead letters)."""

  def __init__(
    self,
    feeds: List[str],
    interval: float,
    read_config: Dict[str, Any],
    fetch: FetchOptions,
    polls: Optional[int] = None,
  ):
    super().__init__()
    self._feeds = list(feeds)
    self._interval = interval
    self._read_config = read_config
    self._fetch = fetch
    self._polls = polls

  def expand(self, pbegin):
    feeds = self._feeds
    # Start now, not when Beam was imported (its default); with a number of
    # polls the source is bounded (it then runs on the DirectRunner in
    # batch mode).
    start = Timestamp.now()
    stop = MAX_TIMESTAMP if self._polls is None else start + self._polls * self._interval
    polled = (
      pbegin
      | 'Every'
      >> PeriodicImpulse(start_timestamp=start, stop_timestamp=stop, fire_interval=self._interval)
      | 'FeedUrls' >> beam.FlatMap(lambda tick: [(url, tick) for url in feeds])
      | 'Spread' >> beam.Reshuffle()
      | 'Fetch'
      >> beam.ParDo(_PollFeedFn(self._read_config, self._fetch)).with_outputs(
        DEAD_LETTER, main='pages'
      )
    )
    return polled.pages, polled[DEAD_LETTER]


class _ParseMessageFn(beam.DoFn):
  def __init__(self, max_bytes: int):
    self._max_bytes = max_bytes

  def process(self, data: bytes):
    kind, value = parse_message(data, self._max_bytes)
    if kind == 'feed':
      yield beam.pvalue.TaggedOutput('feeds', (value, None))
    elif kind == DEAD_LETTER:
      yield beam.pvalue.TaggedOutput(DEAD_LETTER, value)
    else:
      yield value


class ReadMessages(beam.PTransform):
  """A Pub/Sub subscription of scraped page records (JSON) or feed URLs ->
  (pages, dead letters). A feed URL is fetched once, conditionally."""

  def __init__(self, subscription: str, read_config: Dict[str, Any], fetch: FetchOptions):
    super().__init__()
    self._subscription = subscription
    self._read_config = read_config
    self._fetch = fetch

  def expand(self, pbegin):
    messages = (
      pbegin
      | 'Read' >> beam.io.ReadFromPubSub(subscription=self._subscription)
      | 'Parse'
      >> beam.ParDo(_ParseMessageFn(self._read_config['max_record_bytes'])).with_outputs(
        'feeds', DEAD_LETTER, main='pages'
      )
    )
    feeds = messages.feeds | 'FetchFeeds' >> beam.ParDo(
      _PollFeedFn(self._read_config, self._fetch)
    ).with_outputs(DEAD_LETTER, main='pages')
    pages = (messages.pages, feeds.pages) | 'Pages' >> beam.Flatten()
    dead = (messages[DEAD_LETTER], feeds[DEAD_LETTER]) | 'DeadLetters' >> beam.Flatten()
    return pages, dead


class WatchFiles(beam.PTransform):
  """New files under a prefix, checked every ``interval`` seconds ->
  (pages, dead letters): JSON Lines files are scraped pages, others feed
  documents."""

  def __init__(
    self, prefix: str, interval: float, read_config: Dict[str, Any], fetch: FetchOptions
  ):
    super().__init__()
    self._prefix = prefix
    self._interval = interval
    self._read_config = read_config
    self._fetch = fetch

  def expand(self, pbegin):
    paths = (
      pbegin
      | 'Match'
      >> fileio.MatchContinuously(
        watch_pattern(self._prefix), interval=self._interval, start_timestamp=Timestamp.now()
      )
      | 'Path' >> beam.Map(lambda m: m.path)
      | 'ByKind' >> beam.Partition(lambda p, _: 0 if is_scraped_file(p) else 1, 2)
    )
    scraped = paths[0] | 'ReadScraped' >> beam.ParDo(
      ReadScrapedFiles(self._read_config)
    ).with_outputs(DEAD_LETTER, main='pages')
    feeds = paths[1] | 'ReadFeeds' >> beam.ParDo(
      ReadFeedDocuments(self._read_config, self._fetch)
    ).with_outputs(DEAD_LETTER, FETCH_STATE, main='pages')
    pages = (scraped.pages, feeds.pages) | 'Pages' >> beam.Flatten()
    dead = (scraped[DEAD_LETTER], feeds[DEAD_LETTER]) | 'DeadLetters' >> beam.Flatten()
    return pages, dead


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
