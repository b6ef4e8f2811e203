"""Reading scraped lines and feed documents: records or dead letters."""

import json
import os

from tests.helpers import REPO_ROOT
from transforms.io.feeds import parse_feed_document
from transforms.io.scraped import STAGE_READ_SCRAPED, parse_scraped_line
from transforms.schema import DEAD_LETTER

LIMIT = 1000000


def _parse(obj_or_bytes):
  line = (
    obj_or_bytes if isinstance(obj_or_bytes, bytes) else json.dumps(obj_or_bytes).encode('utf-8')
  )
  return parse_scraped_line(line, LIMIT, 'test:1')


def test_scraped_record_keeps_its_fields():
  kind, record = _parse(
    {
      'url': 'https://a.example/x',
      'html': '<p>hi</p>',
      'title': 'T',
      'fetched_at': '2022-04-05T10:00:00+02:00',
      'source': 'crawler',
    }
  )
  assert kind == 'page'
  assert record['url'] == 'https://a.example/x'
  assert record['fetched_at'] == '2022-04-05T08:00:00Z'
  assert record['source'] == 'crawler'
  assert json.loads(record['raw'])['html'] == '<p>hi</p>'


def test_bad_scraped_lines_are_dead_letters_with_reasons():
  cases = {
    b'{"url": "https://a.example", "html": "<p>': 'invalid JSON',
    b'[1, 2]': 'not an object',
    b'{"html": "<p>x</p>"}': 'missing required field "url"',
    b'{"url": 5, "text": "x"}': "'url' must be a string",
    b'{"url": "https://a.example", "text": ["a"]}': "'text' must be a string",
    b'{"url": "https://a.example"}': 'neither "html" nor "text"',
  }
  for line, error in cases.items():
    kind, dead = parse_scraped_line(line, LIMIT, 'f:1')
    assert kind == DEAD_LETTER, line
    assert error in dead['error'], (line, dead['error'])
    assert dead['stage'] == STAGE_READ_SCRAPED
    assert dead['raw'], line


def test_oversized_line_is_a_dead_letter():
  line = json.dumps({'url': 'https://a.example', 'text': 'x' * 5000}).encode()
  kind, dead = parse_scraped_line(line, 1000, 'f:1')
  assert kind == DEAD_LETTER
  assert 'over the 1000 byte limit' in dead['error']


RSS = b'''<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>One</title><link>https://n.example/1</link>
<pubDate>Tue, 05 Apr 2022 08:15:00 +0200</pubDate><author>a@n.example (Ann)</author>
<description>&lt;p&gt;Summary &lt;b&gt;one&lt;/b&gt;&lt;/p&gt;</description></item>
<item><title>No link</title><description>lost?</description></item>
</channel></rss>'''


def test_rss_entries_become_records_and_linkless_entry_a_dead_letter():
  out = list(parse_feed_document(RSS, 'feeds/x.rss'))
  pages = [r for k, r in out if k == 'page']
  dead = [r for k, r in out if k == DEAD_LETTER]
  assert len(pages) == 1 and len(dead) == 1
  assert pages[0]['url'] == 'https://n.example/1'
  assert pages[0]['feed_url'] == 'feeds/x.rss'
  assert pages[0]['published_at'] == '2022-04-05T06:15:00Z'
  assert dead[0]['error'] == 'feed entry has no link'
  assert dead[0]['feed_url'] == 'feeds/x.rss'


def test_atom_feed_from_the_sample_reads():
  path = os.path.join(REPO_ROOT, 'sample', 'feeds', 'technology.atom')
  with open(path, 'rb') as f:
    out = list(parse_feed_document(f.read(), path))
  assert [k for k, _ in out] == ['page', 'page']
  assert out[0][1]['authors'] == ['Ines Okafor']
  assert out[0][1]['published_at'] == '2022-04-05T09:30:00Z'


def test_html_page_given_as_feed_is_one_dead_letter():
  html = b'<html><body><p>Not a feed at all.</p></body></html>'
  out = list(parse_feed_document(html, 'https://n.example/page'))
  assert len(out) == 1 and out[0][0] == DEAD_LETTER
  assert out[0][1]['url'] == 'https://n.example/page'


def test_ill_formed_feed_with_entries_gives_flagged_records():
  broken = RSS.replace(b'</channel></rss>', b'<unclosed></channel></rss>')
  pages = [r for k, r in parse_feed_document(broken, 'f') if k == 'page']
  assert pages and all(any('not well-formed' in w for w in p['warnings']) for p in pages)
