"""An id names one record across articles, duplicates and rejected: the
same input read twice gives an article under its id and a duplicate under
an id of its own (never its own `duplicate_of`); rejected copies get ids of
their own too. Articles keep the id of their text, and every id is the same
on every run and runner."""

import json

from pipelines import ingest
from tests.helpers import read_outputs, story, write_jsonl
from transforms import schema

RSS = '''<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>
<item><title>Storm warning</title><link>https://wire.example/storm</link>
<pubDate>Tue, 05 Apr 2022 08:15:00 +0000</pubDate><description>{body}</description></item>
</channel></rss>'''


def _run(tmp_path, name, *extra):
  output = tmp_path / name
  args = ['--feeds', str(tmp_path / 'feeds' / '*.rss'), '--scraped', str(tmp_path / '*.jsonl')]
  ingest.run(args + ['--output', str(output), '--no-index'] + list(extra))
  return read_outputs(output)


def test_copies_of_one_input_get_ids_of_their_own(tmp_path):
  feeds = tmp_path / 'feeds'
  feeds.mkdir()
  # The same item in two feeds (same URL, same text), and three times scraped.
  for title in ('a', 'b'):
    (feeds / ('%s.rss' % title)).write_text(
      RSS.format(title=title, body=story('storm')), encoding='utf-8'
    )
  short = {'url': 'https://brief.example/short', 'text': 'Too short to publish.'}
  tram = {'url': 'https://local.example/tram', 'text': story('tram')}
  write_jsonl(tmp_path / 'pages.jsonl', [tram, tram, tram, short, short])
  out = _run(tmp_path, 'one')
  records = out['articles'] + out['duplicates'] + out['rejected']
  ids = [r['id'] for r in records]
  assert len(ids) == 2 + 3 + 2 and len(set(ids)) == len(ids)
  # Articles keep the id of their text.
  for article in out['articles']:
    assert article['id'] == schema.with_id(article)['id']
  assert len(out['duplicates']) == 3
  for duplicate in out['duplicates']:
    assert duplicate['duplicate_of'] != duplicate['id']
    assert duplicate['duplicate_of'] in {a['id'] for a in out['articles']}
  assert sorted(r['reason'] for r in out['rejected']) == ['too_short', 'too_short']
  # The same ids again, on the multi-process runner.
  two = _run(tmp_path, 'two', '--direct_num_workers=2', '--direct_running_mode=multi_processing')
  for name in ('articles', 'duplicates', 'rejected'):
    key = lambda r: json.dumps(r, sort_keys=True)
    assert sorted(map(key, out[name])) == sorted(map(key, two[name])), name
