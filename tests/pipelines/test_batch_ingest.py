"""The whole batch pipeline through its command line: outputs, the ledger
(every input ends somewhere), determinism, and reruns."""

import gzip
import json

import pytest

from pipelines import ingest
from tests.helpers import read_outputs

FEED = '''<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title>
<item><title>Tram line reaches the hospital</title><link>https://local.example/tram</link>
<pubDate>Mon, 04 Apr 2022 09:00:00 +0000</pubDate>
<description>{body}</description></item>
<item><title>Linkless</title><description>No link here.</description></item>
</channel></rss>'''

TRAM = (
  'The council voted on Monday to extend the tram line to the new '
  'hospital, a project discussed for more than ten years. '
) * 6
STORM = ' '.join(
  'Forecasters warned that the storm approaching the northern coast could '
  'bring gusts above %d km/h and heavy rain to district %d overnight.' % (100 + 10 * i, i)
  for i in range(6)
)


def _lines(records):
  return '\n'.join(r if isinstance(r, str) else json.dumps(r) for r in records)


@pytest.fixture
def inputs(tmp_path, seed_text, http_server):
  scraped = tmp_path / 'scraped'
  scraped.mkdir()
  good = [
    {'url': 'https://seed.example/page', 'text': seed_text},
    {
      'url': 'https://coast.example/storm',
      'html': '<html><body><article><h1>Storm</h1>%s</article></body></html>'
      % ''.join('<p>%s.</p>' % s for s in STORM.split('. ') if s),
    },
    {'url': 'https://copy.example/storm?utm_source=x', 'text': STORM},
    {'url': 'https://brief.example/short', 'text': 'Too short to publish.'},
  ]
  bad = [
    '{"url": "https://bad.example/json", "html": "<p>',
    json.dumps({'html': '<p>no url</p>'}),
    json.dumps({'url': 'https://bad.example/list', 'text': ['a']}),
  ]
  (scraped / 'a.jsonl').write_text(_lines(good + bad), encoding='utf-8')
  with gzip.open(scraped / 'b.jsonl.gz', 'wt', encoding='utf-8') as f:
    f.write(_lines([{'url': 'https://gz.example/tram', 'text': TRAM}]))
  feeds = tmp_path / 'feeds'
  feeds.mkdir()
  (feeds / 'local.rss').write_text(FEED.format(body=TRAM), encoding='utf-8')
  (feeds / 'page.html').write_text('<html><body>not a feed</body></html>')
  http_server.routes['/feed.xml'] = (
    200,
    {'Content-Type': 'application/rss+xml'},
    FEED.format(body=STORM).replace('local.example/tram', 'remote.example/storm').encode(),
  )
  return {
    'scraped': [str(scraped / '*.jsonl*')],
    'feeds': [str(feeds / '*'), http_server.url('/feed.xml'), str(tmp_path / 'missing' / '*.xml')],
    # inputs, each of which must end in an output
    'scraped_lines': len(good) + len(bad) + 1,
    'feed_entries': 4,
    'unreadable_feeds': 2,
  }


def _run(inputs, output, *extra):
  # The remote feed is served on 127.0.0.1, refused unless allowed.
  args = ['--output', str(output), '--allow-private-hosts']
  for spec in inputs['scraped']:
    args += ['--scraped', spec]
  for spec in inputs['feeds']:
    args += ['--feeds', spec]
  ingest.run(args + list(extra))
  return read_outputs(output)


def test_every_input_ends_in_exactly_one_output(inputs, tmp_path):
  out = _run(inputs, tmp_path / 'out')
  arts, dups, rej, dead = (out[n] for n in ('articles', 'duplicates', 'rejected', 'dead_letter'))
  # The seed page holds two stories; every other input is one record.
  n_inputs = inputs['scraped_lines'] + inputs['feed_entries'] + inputs['unreadable_feeds']
  assert len(arts) + len(dups) + len(rej) + len(dead) == n_inputs + 1
  seed = sorted(
    (a for a in arts if a['url'] == 'https://seed.example/page'), key=lambda a: a['part']
  )
  assert [a['part'] for a in seed] == [0, 1]
  assert {d['stage'] for d in dead} == {'read_scraped', 'read_feed'}
  assert all(d['error'] and d['raw'] for d in dead)
  assert [r['reason'] for r in rej] == ['too_short']
  # Storm: scraped page, plain-text copy, remote feed item: one kept.
  storm_ids = {a['id'] for a in arts if 'storm' in a['url']}
  assert len(storm_ids) == 1
  assert {d['duplicate_of'] for d in dups if 'storm' in d['url']} == storm_ids
  # Tram: feed item and gzipped scraped copy.
  assert len([a for a in arts if 'tram' in a['url']]) == 1
  assert out['summary']['outputs'] == {
    'articles': len(arts),
    'duplicates': len(dups),
    'rejected': len(rej),
    'dead_letter': len(dead),
  }
  assert out['summary']['languages'] == {'en': len(arts)}
  for article in arts:
    assert article['language'] == 'en' and article['id'] and article['body']
    assert '<' not in article['body']


def test_same_input_same_records_on_both_runner_modes(inputs, tmp_path):
  one = _run(inputs, tmp_path / 'one')
  two = _run(
    inputs, tmp_path / 'two', '--direct_num_workers=2', '--direct_running_mode=multi_processing'
  )
  for name in ('articles', 'duplicates', 'rejected', 'dead_letter'):
    key = lambda r: json.dumps(r, sort_keys=True)
    drop_time = lambda r: {k: v for k, v in r.items() if k != 'fetched_at'}
    assert sorted(map(key, map(drop_time, one[name]))) == sorted(
      map(key, map(drop_time, two[name]))
    ), name


def test_rerun_replaces_outputs_without_leftovers(inputs, tmp_path):
  output = tmp_path / 'out'
  first = _run(inputs, output)
  stale = output / 'articles' / 'part-00007-of-00009.jsonl'
  stale.write_text('{"id": "stale"}\n')
  second = _run(inputs, output)
  assert not stale.exists()
  assert sorted(a['id'] for a in first['articles']) == sorted(a['id'] for a in second['articles'])


def test_min_words_flag_rejects_short_bodies(inputs, tmp_path):
  out = _run(inputs, tmp_path / 'out', '--min-words', '1000')
  assert out['articles'] == []
  assert {r['reason'] for r in out['rejected']} == {'too_short'}


def test_bad_config_is_a_clear_error(tmp_path):
  bad = tmp_path / 'bad.yaml'
  bad.write_text('filter:\n  min_words: many\n')
  with pytest.raises(SystemExit, match='filter.min_words must be a whole number'):
    ingest.run(['--config', str(bad), '--output', str(tmp_path / 'o')])
