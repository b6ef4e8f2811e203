"""The streaming graph's sources: feeds polled on a timer with conditional
GET in Beam state, a Pub/Sub subscription, new files under a watched
prefix."""

import json
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

import apache_beam as beam
from apache_beam.coders import StrUtf8Coder
from apache_beam.io import fileio
from apache_beam.transforms.periodicsequence import PeriodicImpulse
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec
from apache_beam.utils.timestamp import MAX_TIMESTAMP, Timestamp

from transforms.fetch.client import FetchOptions
from transforms.fetch.state import FETCH_STATE
from transforms.io.feeds import ReadFeedDocuments
from transforms.io.scraped import ReadScrapedFiles, parse_scraped_line
from transforms.schema import DEAD_LETTER
from transforms.streaming.state import is_scraped_file, watch_pattern
from transforms.text.urls import is_url


def parse_message(data: bytes, max_bytes: int) -> Tuple[str, Any]:
  """A Pub/Sub message -> ('feed', URL), or what ``parse_scraped_line``
  gives for a scraped page record ('page' or 'dead_letter')."""
  text = data.strip()
  if is_url(text[:8].decode('ascii', 'replace')) and b'\n' not in text:
    return 'feed', text.decode('utf-8', 'replace')
  return parse_scraped_line(data, max_bytes, 'pubsub message')


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


class SourcePages(NamedTuple):
  """What a streaming source gives: pages, and the inputs it could not read."""

  pages: beam.PCollection
  dead_letter: beam.PCollection


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
    return SourcePages(polled.pages, polled[DEAD_LETTER])


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
    return SourcePages(pages, dead)


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
    return SourcePages(pages, dead)
