"""Streaming: local polls against a live feed server, the Dataflow streaming
graph built offline, and windows, late data and dedup with TestStream."""

import glob
import json
import os
import time

import apache_beam as beam
import pytest
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing import test_stream
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to_per_window
from apache_beam.transforms import window
from apache_beam.utils.timestamp import Duration

from pipelines import stream as stream_pipeline
from tests.helpers import DATAFLOW_DRY_RUN_ARGS, part_files, read_part, read_records
from transforms import schema
from transforms.dedup.streams import StreamDeduplicate
from transforms.streaming.clock import epoch_of, event_time, latency_figures
from transforms.streaming.polls import forget_poll
from transforms.streaming.sources import parse_message
from transforms.streaming.state import prune_index, record_sightings
from transforms.streaming.windows import (
  OutputWindows,
  RememberFirstSeen,
  StampEventTime,
  WriteWindows,
)
from transforms.text.urls import canonicalize_url

STORIES = {
  'harbour': (
    'Harbour crane collapses during storm',
    'A container crane at the northern harbour collapsed on '
    'Tuesday night as gusts reached ninety kilometres an hour. '
    'Dock workers had been sent home two hours earlier, and '
    'nobody was hurt, the port authority said. Ships were '
    'diverted to the southern quay while engineers inspect '
    'the remaining cranes.',
  ),
  'library': (
    'City library reopens after two years of repairs',
    'The central library reopened its doors on Saturday '
    'after a renovation that replaced the leaking roof and '
    'added a children\'s reading room. Hundreds of residents '
    'queued before opening time, and the mayor thanked the '
    'volunteers who moved forty thousand books into storage.',
  ),
  'orchard': (
    'Frost threatens apple harvest in the valley',
    'Growers in the valley lit fires between their apple '
    'trees overnight as temperatures fell below freezing for '
    'the third time this month. Blossoms are most fragile in '
    'late spring, and farmers fear losing a quarter of the '
    'crop if the cold returns this weekend.',
  ),
  'tram': (
    'New tram line carries first passengers',
    'The first trams on the eastern line left the depot at six '
    'in the morning, carrying commuters between the university '
    'and the railway station in eighteen minutes. The line cost '
    'less than planned, and a second route to the airport is '
    'expected to open within four years.',
  ),
}


def _rss(slugs, base):
  items = ''.join(
    '<item><title>%s</title><link>%s/%s</link><guid>%s/%s</guid>'
    '<description>%s</description></item>' % (STORIES[s][0], base, s, base, s, STORIES[s][1])
    for s in slugs
  )
  return (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Town '
    'news</title><link>%s</link>%s</channel></rss>' % (base, items)
  ).encode('utf-8')


def _growing_feed(base):
  """A feed route whose items change by request: new items appear between
  polls, old ones are re-listed, and an unchanged version answers 304."""
  versions = [
    ['harbour', 'library'],  # poll 1
    ['harbour', 'library', 'orchard'],  # poll 2: new
    ['harbour', 'library', 'orchard'],  # poll 3: 304
    ['library', 'orchard', 'tram'],
  ]  # poll 4: new
  served = []

  def route(handler):
    version = min(len(served), len(versions) - 1)
    served.append(version)
    etag = '"v%d"' % (1 if version == 2 else version)
    if handler.headers.get('If-None-Match') == etag:
      handler.respond(304, {'ETag': etag}, b'')
    else:
      handler.respond(
        200, {'Content-Type': 'application/rss+xml', 'ETag': etag}, _rss(versions[version], base)
      )

  return route


def _partition_records(output, name):
  """{poll partition: [records]} of one output."""
  by_poll = {}
  for folder in sorted(glob.glob(os.path.join(output, name, 'poll=*'))):
    if part_files(folder):
      by_poll[os.path.basename(folder)] = read_records(folder)
  return by_poll


def test_polls_write_each_new_item_once_in_the_poll_that_first_sees_it(http_server, tmp_path):
  http_server.routes['/town.rss'] = _growing_feed('https://town.example')
  output = str(tmp_path / 'stream')
  summary = stream_pipeline.run(
    [
      '--feeds',
      http_server.url('/town.rss'),
      '--allow-private-hosts',
      '--output',
      output,
      '--poll-interval',
      '1',
      '--polls',
      '4',
      '--min-words',
      '20',
    ]
  )
  polls = [p['poll'] for p in summary['polls']]
  assert len(polls) == 4 and http_server.count('/town.rss') == 4

  articles = _partition_records(output, 'articles')
  written = {
    poll: sorted(a['url'].rsplit('/', 1)[1] for a in records) for poll, records in articles.items()
  }
  # Each item is written in the poll that first saw it, and only then.
  assert written == {polls[0]: ['harbour', 'library'], polls[1]: ['orchard'], polls[3]: ['tram']}
  # Poll 3 asked conditionally and got 304: nothing read, nothing written.
  assert http_server.requests[2][1].get('If-None-Match') == '"v1"'
  assert summary['polls'][2]['total'] == 0
  # Re-listed items are duplicates of what was published before.
  published = {a['url']: a['id'] for records in articles.values() for a in records}
  relisted = _partition_records(output, 'duplicates')
  assert sorted((d['url'], d['duplicate_of']) for d in relisted[polls[1]]) == sorted(
    (u, published[u]) for u in published if 'orchard' not in u and 'tram' not in u
  )
  assert sorted(d['url'].rsplit('/', 1)[1] for d in relisted[polls[3]]) == ['library', 'orchard']
  # Latency: from the poll that first saw the item to its record written.
  for poll_summary in summary['polls']:
    poll_articles = articles.get(poll_summary['poll'], [])
    latency = poll_summary['latency_seconds']
    assert latency['count'] == len(poll_articles)
    for article in poll_articles:
      assert article['first_seen_at'] == poll_summary['started_at']
    if poll_articles:
      assert 0 <= latency['p50'] <= latency['max']
      assert epoch_of(poll_summary['written_at']) >= epoch_of(poll_summary['started_at'])
  with open(os.path.join(output, 'summary.json'), encoding='utf-8') as f:
    assert json.load(f)['outputs']['articles'] == 4
  with open(os.path.join(output, 'summary', polls[1], 'summary.json'), encoding='utf-8') as f:
    assert json.load(f)['latency_seconds']['count'] == 1


def test_polls_keep_outputs_and_state_on_cloud_storage(gcs_bucket, tmp_path):
  feed = tmp_path / 'town.rss'
  feed.write_bytes(_rss(['harbour', 'tram'], 'https://town.example'))
  output = 'gs://%s/stream' % gcs_bucket.name
  summary = stream_pipeline.run(
    [
      '--feeds',
      str(feed),
      '--output',
      output,
      '--poll-interval',
      '1',
      '--polls',
      '2',
      '--min-words',
      '20',
    ]
  )
  assert [(p['outputs']['articles'], p['outputs']['duplicates']) for p in summary['polls']] == [
    (2, 0),
    (0, 2),
  ]
  written = FileSystems.match([output + '/articles/poll=*/part-*'])[0]
  assert len(written.metadata_list) == 1
  for state in (
    '_stream/first_seen.json',
    'summary.json',
    'summary/%s/summary.json' % summary['polls'][1]['poll'],
  ):
    assert FileSystems.exists(output + '/' + state)


def test_duration_stops_the_polls(tmp_path):
  feed = tmp_path / 'town.rss'
  feed.write_bytes(_rss(['harbour'], 'https://town.example'))
  summary = stream_pipeline.run(
    [
      '--feeds',
      str(feed),
      '--output',
      str(tmp_path / 'out'),
      '--poll-interval',
      '1',
      '--duration',
      '1',
      '--min-words',
      '20',
    ]
  )
  # The first poll outlasts the duration: no second poll starts.
  assert [p['outputs']['articles'] for p in summary['polls']] == [1]


def test_new_files_under_a_watched_folder_are_read_once(tmp_path):
  incoming = tmp_path / 'incoming'
  incoming.mkdir()
  title, body = STORIES['library']
  (incoming / 'a.jsonl').write_text(
    json.dumps({'url': 'https://town.example/library', 'title': title, 'text': body}) + '\n'
  )
  (incoming / 'b.rss').write_bytes(_rss(['tram'], 'https://town.example'))
  output = str(tmp_path / 'out')
  args = ['--watch', str(incoming), '--output', output, '--min-words', '20', '--polls', '1']
  first = stream_pipeline.run(args)
  second = stream_pipeline.run(args)
  assert first['outputs']['articles'] == 2
  assert sorted(first['polls'][0]['new_files']) == sorted(str(p) for p in incoming.iterdir())
  assert second['total'] == 0 and second['polls'][0]['new_files'] == []


# This run creates thousands of tiny bundles (a bounded PeriodicImpulse in
# batch mode); in about one full-suite run out of three the FnApiRunner then
# hangs for good in StateSampler.stop, joining the state sampler's thread (a
# race inside Beam 2.77's worker, seen with py-spy; not in newsbeam's code).
# A hang would stall CI, so the run is opt-in until Beam fixes it.
@pytest.mark.skipif(
  not os.environ.get('NEWSBEAM_RUN_BOUNDED_STREAMING_GRAPH'),
  reason='intermittent hang in Beam 2.77 StateSampler.stop with a bounded '
  'PeriodicImpulse; set NEWSBEAM_RUN_BOUNDED_STREAMING_GRAPH=1 to run',
)
def test_streaming_graph_runs_bounded_with_conditional_get_in_beam_state(
  http_server, config, tmp_path
):
  # What of the streaming graph runs locally: with a bounded PeriodicImpulse
  # and no processing-time trigger, in batch mode on the DirectRunner.
  http_server.routes['/town.rss'] = _growing_feed('https://town.example')
  config = dict(config, stream=dict(config['stream'], early_firing_seconds=0))
  fetch = stream_pipeline.FetchOptions(config['fetch'], allow_private_hosts=True)
  output = str(tmp_path / 'out')
  pipeline = beam.Pipeline(options=PipelineOptions([]))
  stream_pipeline.build_streaming(
    pipeline, config, [http_server.url('/town.rss')], [], None, None, output, 20, fetch, 1, polls=3
  )
  pipeline.run().wait_until_finish()
  assert http_server.count('/town.rss') == 3
  # The validators of one poll are sent by the next (Beam state per URL);
  # the third poll gets 304.
  assert [h.get('If-None-Match') for _, h in http_server.requests] == [None, '"v0"', '"v1"']

  def slugs(name):
    return sorted(r['url'].rsplit('/', 1)[1] for r in read_records(os.path.join(output, name)))

  assert slugs('articles') == ['harbour', 'library', 'orchard']
  assert slugs('duplicates') == ['harbour', 'library']


def test_polls_refuse_what_needs_the_streaming_graph(tmp_path):
  with pytest.raises(SystemExit, match='--subscription needs'):
    stream_pipeline.run(['--subscription', 'projects/p/subscriptions/s', '--output', str(tmp_path)])
  with pytest.raises(SystemExit, match='streams write JSON Lines'):
    stream_pipeline.run(['--format', 'parquet', '--output', str(tmp_path)])
  with pytest.raises(SystemExit, match='cannot run the streaming graph'):
    stream_pipeline.run(['--streaming', '--output', str(tmp_path)])
  with pytest.raises(SystemExit, match='expected projects/'):
    stream_pipeline.run(
      DATAFLOW_DRY_RUN_ARGS
      + ['--streaming', '--subscription', 'news-pages', '--output', 'gs://newsbeam-test/s']
    )


# --- TestStream: first seen, event time, dedup, windows, late data -----------

MINUTE = 60
DAY = 24 * 60 * MINUTE


def _article(slug, published_at=None, body=None):
  url = 'https://town.example/%s' % slug
  return schema.with_id(
    schema.new_article(
      url=url,
      canonical_url=canonicalize_url(url),
      title=STORIES[slug][0],
      body=body or STORIES[slug][1],
      part=0,
      published_at=published_at,
    )
  )


def _iso(seconds):
  return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(seconds))


def _streaming_run(config, events, end):
  """events: (watermark seconds, articles arriving then); returns the
  pipeline and the published articles in their output windows."""
  stream = test_stream.TestStream()
  for seconds, articles in events:
    stream = stream.advance_watermark_to(seconds).add_elements(
      [window.TimestampedValue(a, seconds) for a in articles]
    )
  stream = stream.advance_watermark_to(end).advance_watermark_to_infinity()
  p = TestPipeline(options=PipelineOptions(streaming=True))
  lateness = config['stream']['allowed_lateness_minutes'] * MINUTE
  published, _, _ = (
    p
    | stream
    | RememberFirstSeen(Duration(seconds=DAY))
    | StampEventTime(lateness)
    | StreamDeduplicate(config['dedup'])
  )
  windowed = (
    published | OutputWindows(config['stream']) | beam.Map(lambda a: a['url'].rsplit('/', 1)[1])
  )
  return p, windowed


def _window(config, start_seconds):
  size = config['stream']['window_minutes'] * MINUTE
  start = start_seconds - start_seconds % size
  return window.IntervalWindow(start, start + size)


def test_articles_land_in_the_window_of_their_publication(config):
  base = 100 * DAY
  size = config['stream']['window_minutes'] * MINUTE
  harbour = _article('harbour', _iso(base + 2 * MINUTE))
  library = _article('library', _iso(base + size + MINUTE))
  undated = _article('tram')
  p, windowed = _streaming_run(
    config,
    [(base + 3 * MINUTE, [harbour]), (base + size + 2 * MINUTE, [library, undated])],
    base + 3 * size,
  )
  with p:
    assert_that(
      windowed,
      equal_to_per_window(
        {_window(config, base): ['harbour'], _window(config, base + size): ['library', 'tram']}
      ),
    )


def test_late_articles_within_lateness_keep_their_window_older_are_moved(config):
  base = 100 * DAY
  size = config['stream']['window_minutes'] * MINUTE
  lateness = config['stream']['allowed_lateness_minutes'] * MINUTE
  arrival = base + 2 * size + lateness // 2
  late = _article('orchard', _iso(base + MINUTE))  # within lateness
  stale = _article('library', _iso(base - 30 * DAY))  # a month old
  p, windowed = _streaming_run(config, [(arrival, [late, stale])], arrival + 3 * size)
  with p:
    assert_that(
      windowed,
      equal_to_per_window(
        {_window(config, base): ['orchard'], _window(config, arrival - lateness): ['library']}
      ),
    )


def test_relisted_items_are_not_published_again_in_later_windows(config):
  base = 100 * DAY
  size = config['stream']['window_minutes'] * MINUTE
  harbour = _article('harbour', _iso(base + MINUTE))
  tram = _article('tram', _iso(base + 3 * size))
  # The feed re-lists the harbour story in three later polls.
  p, windowed = _streaming_run(
    config,
    [
      (base + 2 * MINUTE, [harbour]),
      (base + 3 * size + MINUTE, [harbour, tram]),
      (base + 5 * size, [harbour]),
    ],
    base + 8 * size,
  )
  with p:
    assert_that(
      windowed,
      equal_to_per_window(
        {_window(config, base): ['harbour'], _window(config, base + 3 * size): ['tram']}
      ),
    )


def test_a_story_seen_again_after_the_horizon_is_published_again(config):
  config = dict(config, dedup=dict(config['dedup'], stream_horizon_days=1))
  base = 100 * DAY
  story = _article('orchard', None)
  p, windowed = _streaming_run(config, [(base, [story]), (base + 3 * DAY, [story])], base + 4 * DAY)
  with p:
    assert_that(
      windowed,
      equal_to_per_window(
        {_window(config, base): ['orchard'], _window(config, base + 3 * DAY): ['orchard']}
      ),
    )


def test_window_files_hold_every_pane_a_late_one_in_its_own_file(config, tmp_path):
  base = 100 * DAY
  size = config['stream']['window_minutes'] * MINUTE
  on_time = [dict(_article('harbour'), first_seen_at=None)]
  next_window = [dict(_article('tram'), first_seen_at=None)]
  late = [dict(_article('orchard'), first_seen_at=None)]
  stream = (
    test_stream.TestStream()
    .advance_watermark_to(base)
    .add_elements([window.TimestampedValue(on_time[0], base + MINUTE)])
    .advance_watermark_to(base + size + 2 * MINUTE)
    .add_elements(
      [
        window.TimestampedValue(next_window[0], base + size + MINUTE),
        window.TimestampedValue(late[0], base + 2 * MINUTE),
      ]
    )
    .advance_watermark_to_infinity()
  )
  output = str(tmp_path / 'out')
  with TestPipeline(options=PipelineOptions(streaming=True)) as p:
    outputs = {name: p | 'No_%s' % name >> beam.Create([]) for name in schema.OUTPUTS}
    outputs[schema.ARTICLES] = p | stream
    outputs | WriteWindows(output, config['stream'])
  files = {}
  for path in part_files(os.path.join(output, 'articles')):
    files[os.path.basename(path)] = [r['url'].rsplit('/', 1)[1] for r in read_part(path)]
  first = time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(base))
  second = time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(base + size))
  third = time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(base + 2 * size))
  assert files == {
    'part-%s-%s-pane000-00000-of-00001.jsonl' % (first, second): ['harbour'],
    'part-%s-%s-pane001-00000-of-00001.jsonl' % (first, second): ['orchard'],
    'part-%s-%s-pane000-00000-of-00001.jsonl' % (second, third): ['tram'],
  }


# --- Plain functions ----------------------------------------------------------


def test_event_time_is_publication_clamped_to_arrival_and_lateness():
  arrived = epoch_of('2026-11-24T12:00:00Z')
  hour = 60 * MINUTE
  assert (
    event_time({'published_at': '2026-11-24T11:40:00Z'}, arrived, hour) == arrived - 20 * MINUTE
  )
  assert event_time({'published_at': '2026-11-20T00:00:00Z'}, arrived, hour) == arrived - hour
  assert event_time({'published_at': '2026-11-25T00:00:00Z'}, arrived, hour) == arrived
  assert event_time({'published_at': None}, arrived, hour) == arrived


def test_latency_figures_and_sightings():
  assert latency_figures([3.0, 1.0, 2.0, 10.0]) == {
    'count': 4,
    'p50': 2.0,
    'p90': 10.0,
    'max': 10.0,
  }
  assert latency_figures([])['count'] == 0
  now = epoch_of('2026-11-24T12:00:00Z')
  seen = record_sightings(
    {
      'https://a.example/1': '2026-11-24T11:00:00Z',
      'https://a.example/old': '2026-11-10T00:00:00Z',
    },
    ['https://a.example/1', 'https://a.example/2', None],
    '2026-11-24T12:00:00Z',
    now,
    7 * DAY,
  )
  assert seen == {
    'https://a.example/1': '2026-11-24T11:00:00Z',
    'https://a.example/2': '2026-11-24T12:00:00Z',
  }


def test_pubsub_messages_are_feed_urls_or_scraped_records():
  assert parse_message(b'https://news.example/rss\n', 1000) == ('feed', 'https://news.example/rss')
  kind, page = parse_message(
    json.dumps({'url': 'https://a.example/x', 'text': 'Some words.'}).encode(), 1000
  )
  assert kind == 'page' and page['url'] == 'https://a.example/x'
  kind, dead = parse_message(b'{not json', 1000)
  assert kind == 'dead_letter' and dead['stage'] == 'read_scraped'


def test_a_failed_poll_leaves_nothing_the_next_poll_would_miss(tmp_path):
  output, index = str(tmp_path / 'out'), str(tmp_path / 'out' / '_index')
  failed, kept = 'poll=20261124T120000Z', 'poll=20261124T115900Z'
  for poll in (failed, kept):
    part = tmp_path / 'out' / 'articles' / poll / 'part-00000-of-00001.jsonl'
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_text('{}\n')
    entry = tmp_path / 'out' / '_index' / ('run-%s-00000-of-00004.jsonl' % poll)
    entry.parent.mkdir(exist_ok=True)
    entry.write_text('{}\n')
  forget_poll(output, index, failed)
  left = sorted(
    os.path.relpath(p, output)
    for p in glob.glob(os.path.join(output, '**', '*.jsonl'), recursive=True)
  )
  assert left == [
    '_index/run-%s-00000-of-00004.jsonl' % kept,
    'articles/%s/part-00000-of-00001.jsonl' % kept,
  ]


def test_polls_forget_published_stories_after_the_horizon(tmp_path):
  index = tmp_path / '_index'
  index.mkdir()
  names = [
    'run-poll=20261110T000000Z-00000-of-00004.jsonl',  # 14 days old
    'run-poll=20261123T120000Z-00001-of-00004.jsonl',  # 1 day old
    'run-0123456789abcdef-00000-of-00004.jsonl',
  ]  # a batch run
  for name in names:
    (index / name).write_text('{}\n')
  assert prune_index(str(index), epoch_of('2026-11-24T12:00:00Z'), 7 * DAY) == 1
  assert sorted(os.listdir(index)) == sorted(names[1:])
