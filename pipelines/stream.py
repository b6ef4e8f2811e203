"""newsbeam streaming: new articles out within one poll, never twice.

Sources: the feeds, polled every --poll-interval seconds with conditional
GET; new files under --watch (and new files matching --scraped); on
Dataflow also a Pub/Sub --subscription of scraped page records or feed URLs.
The stages are the batch pipeline's; dedup remembers what was published
(for dedup.stream_horizon_days), so a feed re-listing an item never
publishes it again.

Locally (DirectRunner), each poll is one bounded pipeline run; polls share
the fetch state, the published-records index and the first-seen times
under --output, and each writes <output>/<name>/poll=YYYYMMDDTHHMMSSZ/:

  python -m pipelines.stream --feeds https://news.example/rss \\
      --poll-interval 60 --output out/stream

For ten minutes, then stop:

  python -m pipelines.stream --feeds https://news.example/rss \\
      --poll-interval 60 --duration 600 --output out/stream

On Dataflow, the streaming graph (PeriodicImpulse, Pub/Sub, Beam state and
timers, fixed windows):

  python -m pipelines.stream --runner DataflowRunner --streaming \\
      --project P --region R --temp_location gs://B/tmp \\
      --setup_file ./setup.py --feeds https://news.example/rss \\
      --subscription projects/P/subscriptions/S --watch gs://B/incoming/ \\
      --output gs://B/stream
"""

import dataclasses
import logging
import signal
import sys
import threading
import time
from typing import Any, Dict, List, Optional

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions, TestOptions
from apache_beam.runners.runner import PipelineState

from configs.loading import resolve_inputs
from pipelines import ingest
from pipelines.cli import leave_to_exit
from transforms import schema
from transforms.dedup.index import DeduplicateAgainstIndex, RunIndex
from transforms.dedup.streams import StreamDeduplicate, horizon_of
from transforms.fetch.client import FetchOptions
from transforms.fetch.pages import FetchLinkedPages
from transforms.fetch.state import SaveFetchState
from transforms.io.inputs import ReadInputs
from transforms.io.sinks import JSONL, SUMMARY_FILE, output_path
from transforms.pipeline import ArticleRecords
from transforms.streaming.clock import iso_of, poll_partition
from transforms.streaming.polls import (
  SUMMARY_FOLDER,
  StampFirstSeen,
  WritePoll,
  forget_poll,
  format_poll,
  poll_summary,
  read_poll,
  remove_empty_partition,
  run_summary,
)
from transforms.streaming.sources import PollFeeds, ReadMessages, WatchFiles
from transforms.streaming.state import (
  FETCH_STATE_FILE,
  FIRST_SEEN_FILE,
  WATCHED_FILE,
  is_scraped_file,
  load_json,
  new_watched_files,
  prune_index,
  record_sightings,
  save_json,
  state_path,
)
from transforms.streaming.windows import RememberFirstSeen, StampEventTime, WriteWindows
from transforms.text.urls import is_url


def build_parser():
  parser = ingest.build_parser()
  parser.prog = 'python -m pipelines.stream'
  parser.description = (
    'Poll feeds and watch for new inputs; write each new '
    'article once. Flags not listed here are Beam '
    'pipeline options (--runner, --streaming, ...).'
  )
  parser.add_argument(
    '--poll-interval',
    type=float,
    default=None,
    metavar='SECONDS',
    help='seconds between polls (default: the config\'s stream.poll_interval)',
  )
  parser.add_argument(
    '--duration',
    type=float,
    default=None,
    metavar='SECONDS',
    help='stop cleanly after this long (default: run until stopped)',
  )
  parser.add_argument(
    '--polls', type=int, default=None, metavar='N', help='local runs: stop after N polls'
  )
  parser.add_argument(
    '--subscription',
    metavar='PROJECTS/P/SUBSCRIPTIONS/S',
    help='Pub/Sub subscription of scraped page records '
    '(JSON) or feed URLs (the streaming graph only)',
  )
  parser.add_argument(
    '--watch',
    metavar='PREFIX',
    help='local or gs:// folder (or glob) where new files '
    'of scraped pages (.jsonl[.gz]) or feeds appear',
  )
  return parser


# --- The streaming graph (Dataflow --streaming) -------------------------------


def build_streaming(
  pipeline: beam.Pipeline,
  config: Dict[str, Any],
  feeds: List[str],
  scraped: List[str],
  subscription: Optional[str],
  watch: Optional[str],
  output: str,
  min_words: int,
  fetch: FetchOptions,
  interval: float,
  polls: Optional[int] = None,
) -> None:
  """Sources -> the batch stages -> first seen, event time -> dedup with
  state and timers -> classify -> fixed windows of output files. With
  `polls`, the feeds are polled that many times (a bounded source)."""
  pages, dead = [], []
  if feeds:
    polled, polled_dead = pipeline | 'PollFeeds' >> PollFeeds(
      feeds, interval, config['read'], fetch, polls
    )
    pages.append(polled)
    dead.append(polled_dead)
  if scraped:  # read once, when the job starts
    read, read_dead, *_ = pipeline | 'ReadScraped' >> ReadInputs([], scraped, config['read'], fetch)
    pages.append(read)
    dead.append(read_dead)
  if subscription:
    messages, messages_dead = pipeline | 'PubSub' >> ReadMessages(
      subscription, config['read'], fetch
    )
    pages.append(messages)
    dead.append(messages_dead)
  if watch:
    watched, watched_dead = pipeline | 'Watch' >> WatchFiles(watch, interval, config['read'], fetch)
    pages.append(watched)
    dead.append(watched_dead)
  pages = pages | 'AllPages' >> beam.Flatten()
  if fetch.fetch_articles:  # scraped pages pass through untouched
    fetched = pages | 'FetchArticles' >> FetchLinkedPages(fetch)
    pages = fetched.pages
    dead.append(fetched.dead_letter)
  # Site boilerplate is learned over a bounded input: not in this graph.
  stamp = 'FirstSeen' >> RememberFirstSeen(horizon_of(config['dedup'])) | (
    'EventTime' >> StampEventTime(config['stream']['allowed_lateness_minutes'] * 60)
  )
  outputs = (
    pages,
    dead | 'AllReadErrors' >> beam.Flatten(),
  ) | 'Articles' >> ArticleRecords(
    config,
    min_words,
    StreamDeduplicate(config['dedup']),
    stamp=stamp,
    site_boilerplate=False,
  )
  outputs | 'Write' >> WriteWindows(output, config['stream'])


def run_streaming(
  known, config, feeds, scraped, min_words, fetch, interval, options: PipelineOptions
) -> None:
  if known.subscription:
    from apache_beam.io.gcp.pubsub import parse_subscription

    try:
      parse_subscription(known.subscription)
    except ValueError as e:
      raise SystemExit(
        'newsbeam: --subscription: %s (expected projects/PROJECT/subscriptions/NAME)' % e
      ) from None
  for spec in feeds:
    if not is_url(spec) and any(c in spec for c in '*?['):
      raise SystemExit(
        'newsbeam: --feeds %s: a glob of feed files is read '
        'once; in a stream, use --watch for new files' % spec
      )
  pipeline = beam.Pipeline(options=options)
  build_streaming(
    pipeline,
    config,
    feeds,
    scraped,
    known.subscription,
    known.watch,
    known.output,
    min_words,
    fetch,
    interval,
  )
  result = pipeline.run()
  if options.view_as(TestOptions).dry_run:
    return
  if known.duration is not None:
    result.wait_until_finish(duration=int(known.duration * 1000))
    if not PipelineState.is_terminal(result.state):
      result.cancel()


# --- Polls (the DirectRunner) -------------------------------------------------


def build_poll(
  pipeline: beam.Pipeline,
  config: Dict[str, Any],
  feeds: List[str],
  scraped: List[str],
  output: str,
  partition: str,
  min_words: int,
  fetch: FetchOptions,
  index: str,
  first_seen: Dict[str, str],
  seen_at: str,
) -> None:
  """One poll: the batch stages, dedup against the index the polls share
  (this poll's records added to it under the poll's name), written into
  the poll's partition; then the feeds' fetch state saved."""
  read = ReadInputs(feeds, scraped, config['read'], fetch)
  dedup = DeduplicateAgainstIndex(config['dedup'], RunIndex(config['dedup'], index, run=partition))
  inputs = pipeline | 'Read' >> read
  outputs = (inputs.pages, inputs.dead_letter) | 'Articles' >> ArticleRecords(
    config, min_words, dedup, stamp=StampFirstSeen(first_seen, seen_at)
  )
  written = outputs | 'Write' >> WritePoll(output, partition, config['output']['compress'])
  if inputs.fetch_state is not None:
    inputs.fetch_state | 'SaveFetchState' >> SaveFetchState(fetch.state_path, after=written)


def run_poll(
  known, config, feeds, scraped, min_words, fetch, index, options: PipelineOptions, started: float
) -> Dict[str, Any]:
  output = known.output
  partition = poll_partition(started)
  horizon = config['dedup']['stream_horizon_days'] * 24 * 60 * 60
  watched_path = state_path(output, WATCHED_FILE)
  watched = load_json(watched_path, {})
  new_files = []
  for pattern in scraped + ([known.watch] if known.watch else []):
    new_files += [f for f in new_watched_files(pattern, watched) if f not in new_files]
  new_scraped = [p for p, _ in new_files if is_scraped_file(p)]
  new_feeds = [p for p, _ in new_files if not is_scraped_file(p)]
  first_seen_path = state_path(output, FIRST_SEEN_FILE)
  first_seen = load_json(first_seen_path, {})
  with ingest.start_up_left_out_of_collections() as freeze:
    with beam.Pipeline(options=options) as pipeline:
      build_poll(
        pipeline,
        config,
        feeds + new_feeds,
        new_scraped,
        output,
        partition,
        min_words,
        fetch,
        index,
        first_seen,
        iso_of(started),
      )
      freeze()
  written = time.time()
  records = read_poll(output, partition)
  seen = [r.get('url') for name in schema.OUTPUTS for r in records[name]]
  save_json(first_seen_path, record_sightings(first_seen, seen, iso_of(started), written, horizon))
  prune_index(index, written, horizon)
  watched.update(new_files)
  save_json(watched_path, watched)
  remove_empty_partition(output, partition)
  summary = poll_summary(records, partition, started, written)
  summary['new_files'] = [p for p, _ in new_files]
  save_json(output_path(output, SUMMARY_FOLDER, partition, SUMMARY_FILE), summary)
  print(format_poll(summary))
  return summary


class _Stop:
  """Set by SIGTERM or Ctrl-C: the poll under way finishes, then the loop
  ends (a poll cut short would leave a partition half written). A second
  Ctrl-C interrupts at once."""

  def __init__(self):
    self.event = threading.Event()
    self._previous = {}

  def _handle(self, *_):
    if self.event.is_set():
      raise KeyboardInterrupt
    self.event.set()

  def __enter__(self):
    if threading.current_thread() is threading.main_thread():
      for sig in (signal.SIGINT, signal.SIGTERM):
        self._previous[sig] = signal.signal(sig, self._handle)
    return self

  def __exit__(self, *_):
    for sig, handler in self._previous.items():
      signal.signal(sig, handler)


def run_polls(
  known, config, feeds, scraped, min_words, fetch, interval, options: PipelineOptions
) -> Dict[str, Any]:
  if known.subscription:
    raise SystemExit(
      'newsbeam: --subscription needs the streaming graph: run on Dataflow with --streaming'
    )
  if known.no_index:
    raise SystemExit(
      'newsbeam: polls share the published-records index to '
      'write each item once; --no-index does not apply'
    )
  index = ingest.index_path(known, config)
  # Polls always keep the feeds' validators: that is what makes them cheap.
  fetch = dataclasses.replace(
    fetch, state_path=fetch.state_path or state_path(known.output, FETCH_STATE_FILE)
  )
  deadline = None if known.duration is None else time.time() + known.duration
  polls = []
  with _Stop() as stop:
    while not stop.event.is_set():
      started = time.time()
      try:
        polls.append(
          run_poll(known, config, feeds, scraped, min_words, fetch, index, options, started)
        )
      except Exception:  # a stream outlives a failed poll: the next retries
        logging.exception('poll failed; the next poll fetches again')
        forget_poll(known.output, index, poll_partition(started))
      if known.polls is not None and len(polls) >= known.polls:
        break
      next_start = max(started + interval, time.time())
      if deadline is not None and next_start >= deadline:
        break
      stop.event.wait(next_start - time.time())
  summary = run_summary(polls)
  save_json(output_path(known.output, SUMMARY_FILE), summary)
  return summary


def run(argv=None) -> Optional[Dict[str, Any]]:
  """Runs until stopped, --duration or --polls; returns the summary of the
  polls (local runs) or None (the streaming graph)."""
  known, options, config, min_words, _ = ingest.launch(build_parser(), argv)
  if known.format not in (None, JSONL):
    raise SystemExit(
      'newsbeam: streams write JSON Lines; --format %s is for batch runs' % known.format
    )
  feeds, scraped = known.feeds, known.scraped
  if not feeds and not scraped and not known.subscription and not known.watch:
    inputs = resolve_inputs(config)
    feeds, scraped = inputs['feeds'], inputs['scraped']
  interval = (
    known.poll_interval if known.poll_interval is not None else config['stream']['poll_interval']
  )
  if interval < 1:
    raise SystemExit('newsbeam: --poll-interval must be at least 1 second')
  if known.duration is not None and known.duration < 0:
    raise SystemExit('newsbeam: --duration must be 0 or more')
  fetch = ingest.fetch_options(known, config)
  standard = options.view_as(StandardOptions)
  if 'Dataflow' in (standard.runner or '') and not standard.streaming:
    raise SystemExit(
      'newsbeam: on Dataflow, pipelines.stream runs the streaming graph: add --streaming'
    )
  if standard.streaming and 'Dataflow' not in (standard.runner or ''):
    raise SystemExit(
      'newsbeam: the DirectRunner cannot run the streaming '
      'graph (PeriodicImpulse fails there): drop --streaming '
      'to run polls, or run on Dataflow'
    )
  if standard.streaming:
    run_streaming(known, config, feeds, scraped, min_words, fetch, interval, options)
    return None
  return run_polls(known, config, feeds, scraped, min_words, fetch, interval, options)


if __name__ == '__main__':
  ingest.configure_logging()
  run(sys.argv[1:])
  leave_to_exit()
