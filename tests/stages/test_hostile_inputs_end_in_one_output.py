"""The worst of the web, through the per-record functions and through the
whole pipeline: every input ends in exactly one output (the ledger), no
exception escapes a stage, and no markup or script reaches a record."""

import json
import os
import re
import resource

import pytest

from configs.loading import load_config
from pipelines import ingest
from tests.helpers import read_outputs
from transforms import extract
from transforms.io.feeds import parse_feed_document
from transforms.io.scraped import bounded_lines, parse_scraped_line

LIMIT = 20000000  # read.max_record_bytes in configs/default.yaml

# What must never be in a record's text: a tag or comment start, script,
# event handlers, script URLs.
_TAG_START = re.compile(r'<[a-zA-Z/!?]')
_HOSTILE = ('<script', 'onerror=', 'onload=', 'javascript:', 'alert(')


def assert_plain_text(text, where=''):
  if text is None:
    return
  assert not _TAG_START.search(text), (where, text[:300])
  lowered = text.lower()
  for bad in _HOSTILE:
    assert bad not in lowered, (where, bad, text[:300])


def assert_record_is_plain_text(record):
  for field in ('title', 'body', 'summary'):
    assert_plain_text(record.get(field), field)
  for author in record.get('authors') or []:
    assert_plain_text(author, 'authors')
  for field in ('url', 'canonical_url'):
    assert not (record.get(field) or '').lower().startswith('javascript:')


def story(n, words=90):
  """An English news text of about `words` words, different for every n (so
  that dedup keeps each)."""
  places = [
    'the harbour',
    'the old mill',
    'the north bridge',
    'the library',
    'the rail depot',
    'the market hall',
    'the hospital',
    'the airport',
  ]
  sentences = []
  i = 0
  while sum(len(s.split()) for s in sentences) < words:
    sentences.append(
      'Officials said on day %d that %d workers would rebuild %s by week %d, '
      'at a cost of %d thousand.'
      % (n * 31 + i, 7 * n + i * 3, places[(n + i) % len(places)], n + 2 * i, 100 * n + 17 * i)
    )
    i += 1
  return ' '.join(sentences)


HOSTILE_PAGE = '''<html><head>
<title>Budget &lt;script&gt;alert(1)&lt;/script&gt; vote</title>
<style>body {{ background: url("javascript:alert(1)") }}</style>
<script>alert('head')</script></head>
<body onload="alert(2)"><article><h1>Budget <img src=x onerror="alert(3)"> vote</h1>
<p>{0} <img src="x" onerror="alert(4)"> <a href="javascript:alert(5)">the minutes</a>.</p>
<svg onload="alert(6)"><circle r="1"/></svg>
<p>&lt;script&gt;alert(7)&lt;/script&gt; {1}</p>
<p>&lt;img src=x onerror=alert(8)&gt; &amp;lt;svg onload=alert(9)&amp;gt; {2}</p>
<iframe src="javascript:alert(10)"></iframe><noscript><img src=x onerror=alert(11)></noscript>
<div style="x" onclick="alert(12)">{3}</div>
</article></body></html>'''


def hostile_page(n):
  return HOSTILE_PAGE.format(*(story(n * 10 + k, 30) for k in range(4)))


HOSTILE_FEED = '''<?xml version="1.0"?><rss version="2.0"><channel><title>Hostile</title>
<item><title>Vote &lt;script&gt;alert(1)&lt;/script&gt; held</title>
<link>https://hostile.example/one</link>
<author>reporter@hostile.example (Ann &lt;b onmouseover=alert(1)&gt;Lee&lt;/b&gt;)</author>
<description><![CDATA[<p>{0}</p><img src=x onerror="alert(2)"><svg onload="alert(3)"></svg>
<a href="javascript:alert(4)">minutes</a><script>alert(5)</script>
<p>&lt;script&gt;alert(6)&lt;/script&gt;{1}</p>]]></description></item>
<item><title>Escaped twice</title><link>https://hostile.example/two</link>
<description>&lt;p&gt;{2}&lt;/p&gt;&amp;lt;img src=x onerror=alert(7)&amp;gt;
&lt;style&gt;p {{ color: red }}&lt;/style&gt;&lt;p&gt;{3}&lt;/p&gt;</description></item>
<item><title>Script link</title><link>javascript:alert(8)</link>
<description>{4}</description></item>
</channel></rss>'''

BILLION_LAUGHS = '''<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>Laughs</title><item><title>&lol9;</title>
<link>https://laughs.example/a</link><description>Story &lol9; text</description>
</item></channel></rss>'''


def quadratic_blowup(entity_chars, uses):
  """One plain-text entity used many times: expat refuses the expansion,
  and feedparser's loose parser used to do it anyway."""
  return (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "%s">\n]>\n'
    '<rss version="2.0"><channel><title>Blowup</title><item><title>T'
    '</title><link>https://blowup.example/a</link><description>%s'
    '</description></item></channel></rss>' % ('a' * entity_chars, '&a;' * uses)
  )


def deeply_nested_json(levels):
  return '{"url": "https://deep.example/json", "text": "x", "extra": %s%s}' % (
    '[' * levels,
    ']' * levels,
  )


def deeply_nested_html(levels, text):
  return '<html><body>%s<p>%s</p>%s</body></html>' % ('<div>' * levels, text, '</div>' * levels)


def _line(record):
  return json.dumps(record).encode('utf-8')


# Scraped lines that cannot be read: (line, what the dead letter says).
BAD_LINES = [
  (b'{"url": "https://bad.example/json", "html": "<p>', 'invalid JSON'),
  (b'not json at all', 'invalid JSON'),
  (b'\x00' * 1000, 'invalid JSON'),
  (b'\xff\xfe\x00\x01binary\x80\x81', 'not UTF-8 (byte 0): read as latin-1'),
  (b'{}', 'missing required field "url"'),
  (b'""', 'not an object'),
  (b'null', 'not an object'),
  (b'[1, 2, 3]', 'not an object'),
  (_line({'url': 5, 'text': 'x'}), "'url' must be a string"),
  (_line({'url': 'https://a.example/', 'text': ['a', 'b']}), "'text' must be a string"),
  (_line({'url': 'https://a.example/', 'html': {'p': 1}}), "'html' must be a string"),
  (_line({'text': story(1)}), 'missing required field "url"'),
  (_line({'url': '  ', 'text': story(1)}), 'missing required field "url"'),
  (_line({'url': 'https://a.example/'}), 'neither "html" nor "text"'),
  (_line({'url': 'https://a.example/', 'text': '', 'html': ''}), 'neither "html" nor "text"'),
  (_line({'url': 'javascript:alert(1)', 'text': story(1)}), 'not an http(s) URL'),
  (
    _line({'url': 'data:text/html,<script>alert(1)</script>', 'html': '<p>x</p>'}),
    'not an http(s) URL',
  ),
  (deeply_nested_json(20000).encode(), 'invalid JSON'),
]


@pytest.mark.parametrize('line,error', BAD_LINES)
def test_bad_scraped_lines_are_dead_letters(line, error):
  kind, dead = parse_scraped_line(line, LIMIT, 'bad.jsonl:1')
  assert kind == 'dead_letter'
  assert error in dead['error'] and dead['stage'] == 'read_scraped'
  assert dead['raw']


def test_a_20_mb_line_is_a_dead_letter_with_a_bounded_raw():
  line = _line({'url': 'https://huge.example/', 'html': '<p>%s</p>' % ('x' * (20 * 2**20))})
  kind, dead = parse_scraped_line(line, LIMIT, 'huge.jsonl:1')
  assert kind == 'dead_letter' and 'over the 20000000 byte limit' in dead['error']
  assert len(dead['raw']) < 200000


def test_nul_filled_and_invisible_text_is_no_text_not_a_crash():
  for text in ('\x00' * 1000, '\u200b\ufeff' * 50, '\x01\x7f\r\n' * 99):
    kind, page = parse_scraped_line(_line({'url': 'https://nul.example/', 'text': text}), LIMIT)
    assert kind == 'page'
    assert extract.build_article(page)['body'] == ''


def test_lone_surrogates_are_replaced_so_records_can_be_encoded():
  # Beam's coders (and UTF-8 files) cannot hold "\ud800": one such line
  # crashed the whole pipeline.
  kind, page = parse_scraped_line(
    b'{"url": "https://s.example/\\ud800", "title": "T\\udfff", '
    b'"text": "Word \\ud800 word", "authors": ["A\\udc00"]}',
    LIMIT,
  )
  article = extract.build_article(page)
  assert article['body'] == 'Word \ufffd word' and article['title'] == 'T\ufffd'
  assert article['url'] == 'https://s.example/\ufffd'
  assert article['authors'] == ['A\ufffd']
  kind, dead = parse_scraped_line(b'{"url": "https://s.example/\\ud800", "text": 5}', LIMIT)
  assert kind == 'dead_letter' and dead['url'] == 'https://s.example/\ufffd'


def test_deeply_nested_html_is_extracted_or_empty_never_an_error():
  html = deeply_nested_html(20000, story(3))
  for page in (
    {'url': 'https://deep.example/html', 'html': html},
    {'url': 'https://deep.example/feed', 'content_html': html},
  ):
    article = extract.build_article(page)
    assert_record_is_plain_text(article)


def test_markup_that_never_closes_is_stripped_in_linear_time():
  # These took minutes with lazy regexes; now each is one pass.
  for text in (
    '<script>' * 50000,
    '<!--' * 50000,
    '<style>x</scrip>' * 20000,
    '<script ' * 50000,
    '<a ' * 100000,
  ):
    assert_plain_text(extract.normalize_text(text))
    assert_plain_text(extract.html_fragment_to_text(text))


def test_script_style_and_event_handlers_never_reach_a_record():
  article = extract.build_article(
    {
      'url': 'https://hostile.example/page',
      'html': hostile_page(1),
      'authors': ['<b onmouseover="alert(1)">Ann Lee</b>'],
    }
  )
  assert_record_is_plain_text(article)
  assert article['authors'] == ['Ann Lee']
  assert 'Officials said' in article['body']
  for text in (
    hostile_page(2),
    '&lt;script&gt;alert(1)&lt;/script&gt;Text',
    '&amp;lt;img src=x onerror=alert(1)&amp;gt;Text',
  ):
    assert_record_is_plain_text(
      extract.build_article({'url': 'https://hostile.example/t', 'text': text, 'title': text})
    )


def test_feed_markup_is_sanitized_and_script_links_are_dead_letters():
  data = HOSTILE_FEED.format(*(story(20 + k, 30) for k in range(5))).encode()
  out = list(parse_feed_document(data, 'hostile.rss'))
  assert [kind for kind, _ in out] == ['page', 'page', 'dead_letter']
  assert 'not an http(s) URL' in out[2][1]['error']
  for _, page in out[:2]:
    article = extract.build_article(page)
    assert_record_is_plain_text(article)
    assert 'Officials said' in article['body']


def test_html_pages_binary_garbage_and_empty_documents_given_as_feeds():
  documents = [
    b'<html><body><p>Not a feed.</p></body></html>',
    os.urandom(4096),
    bytes(range(256)) * 16,
    b'',
    b'\x00' * 1000,
    b'<?xml version="1.0"?><rss version="2.0"><channel>',
    '<rss><channel><item><title>ü</title>'.encode('utf-16'),
  ]
  for data in documents:
    out = list(parse_feed_document(data, 'junk.xml'))
    assert out, data[:40]
    for kind, record in out:
      assert kind in ('page', 'dead_letter')
      if kind == 'dead_letter':
        assert record['stage'] == 'read_feed' and record['error']


def _max_rss_mb():
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize(
  'document',
  [
    BILLION_LAUGHS.encode(),
    quadratic_blowup(10000, 10000).encode(),  # 40 KB that was 100 MB
  ],
  ids=['billion_laughs', 'quadratic_blowup'],
)
def test_entity_expansion_is_refused_and_the_record_flagged(document):
  before = _max_rss_mb()
  out = list(parse_feed_document(document, 'laughs.rss'))
  # The high-water mark of memory barely moves; expanded, these are
  # gigabytes (billion laughs) and 100 MB (the blowup).
  assert _max_rss_mb() - before < 50
  assert len(out) == 1
  kind, record = out[0]
  assert kind == 'page' and record['warnings']
  assert 'undefined entity' in record['warnings'][0]
  article = extract.build_article(record)
  assert len(article['body']) < 2 * len(document)
  assert 'lollol' not in article['body'] and 'aaaa' not in article['body']


def test_big_html_is_cut_to_the_configured_size_and_flagged():
  page = {
    'url': 'https://big.example/',
    'html': '<html><body><article><p>%s</p>%s</article></body></html>'
    % (story(5), '<p>filler é text</p>' * 100000),
  }
  article = extract.build_article(page, max_html_bytes=20000)
  assert 'Officials said' in article['body']
  assert article['warnings'] == ['html cut to its first 20000 bytes (extract.max_html_bytes)']
  assert extract.truncate_html('é' * 10, 5) == 'éé'


# The whole pipeline, on one folder of bad inputs.


def _write_lines(path, lines):
  with open(path, 'wb') as f:
    f.write(b'\n'.join(lines) + b'\n')


@pytest.fixture
def bad_inputs(tmp_path):
  scraped = tmp_path / 'scraped'
  scraped.mkdir()
  good = [
    _line({'url': 'https://hostile.example/page', 'html': hostile_page(3)}),
    _line(
      {
        'url': 'https://hostile.example/text',
        'title': '<svg onload=alert(1)>Title</svg>',
        'text': '&lt;script&gt;alert(1)&lt;/script&gt;' + story(4),
      }
    ),
    _line({'url': 'https://deep.example/html', 'html': deeply_nested_html(20000, story(6))}),
    _line({'url': 'https://nul.example/', 'text': '\x00' * 1000}),
    b'{"url": "https://s.example/a", "text": "Word \\ud800 %s"}' % story(7).encode(),
    # Over extract.max_html_bytes (set to 100 KB below): cut and flagged.
    _line(
      {
        'url': 'https://big.example/',
        'html': '<html><body><article><p>%s</p>%s</article></body></html>'
        % (story(8), '<p>filler text</p>' * 300000),
      }
    ),
    # 20 MB: over read.max_record_bytes.
    _line(
      {
        'url': 'https://huge.example/',
        'html': '<p>%s</p>' % ('x' * (20 * 2**20)),
      }
    ),
  ]
  lines = good + [line for line, _ in BAD_LINES]
  _write_lines(scraped / 'pages.jsonl', lines)
  feeds = tmp_path / 'feeds'
  feeds.mkdir()
  (feeds / 'hostile.rss').write_text(
    HOSTILE_FEED.format(*(story(40 + k, 60) for k in range(5))), encoding='utf-8'
  )
  (feeds / 'laughs.rss').write_text(BILLION_LAUGHS, encoding='utf-8')
  (feeds / 'blowup.rss').write_text(quadratic_blowup(10000, 10000))
  (feeds / 'page.html').write_text('<html><body><p>not a feed</p></body></html>')
  (feeds / 'garbage.bin').write_bytes(os.urandom(8192))
  config = tmp_path / 'limits.yaml'
  config.write_text('extract:\n  max_html_bytes: 100000\n')
  return {
    'args': [
      '--scraped',
      str(scraped / '*.jsonl'),
      '--feeds',
      str(feeds / '*'),
      '--config',
      str(config),
    ],
    # scraped lines + hostile feed entries + one-entry feeds + non-feeds
    'inputs': len(lines) + 3 + 2 + 2,
  }


def test_bad_inputs_through_the_pipeline_keep_the_ledger(bad_inputs, tmp_path):
  output = str(tmp_path / 'out')
  ingest.run(bad_inputs['args'] + ['--output', output])
  out = read_outputs(output)
  arts, dups, rej, dead = (out[n] for n in ('articles', 'duplicates', 'rejected', 'dead_letter'))
  # One input, one output: no page here holds two stories.
  assert len(arts) + len(dups) + len(rej) + len(dead) == bad_inputs['inputs']
  assert out['summary']['total'] == bad_inputs['inputs']
  for record in arts + dups + rej:
    assert_record_is_plain_text(record)
  urls = {a['url'] for a in arts}
  assert {
    'https://hostile.example/page',
    'https://hostile.example/text',
    'https://hostile.example/one',
    'https://hostile.example/two',
    'https://big.example/',
    'https://s.example/a',
  } <= urls
  big = [a for a in arts if a['url'] == 'https://big.example/'][0]
  assert 'html cut to its first 100000 bytes' in big['warnings'][0]
  assert {r['url'] for r in rej if r['reason'] == 'no_text'} >= {'https://nul.example/'}
  errors = [d['error'] for d in dead]
  assert sum('over the 20000000 byte limit' in e for e in errors) == 1
  assert sum('not an http(s) URL' in e for e in errors) == 3
  assert {d['stage'] for d in dead} == {'read_scraped', 'read_feed'}
  assert all(d['raw'] for d in dead)
  # The entity feeds come out flagged, unexpanded.
  for url in ('https://laughs.example/a', 'https://blowup.example/a'):
    record = [r for r in arts + rej if r['url'] == url][0]
    assert 'undefined entity' in record['warnings'][0]
    assert len(record['body'] or '') < 100000


def test_a_page_over_the_time_budget_is_a_timeout_dead_letter(tmp_path):
  # A 1 MB page takes extraction about 5 s of CPU; the budget is half a
  # second, which a quick record's calls fit in many times over (a child's
  # CPU time is read in clock ticks of 10 ms: a budget of one tick would
  # stop any call now and then).
  scraped = tmp_path / 'slow.jsonl'
  _write_lines(
    scraped,
    [
      _line(
        {
          'url': 'https://slow.example/',
          'html': '<html><body><article>%s</article></body></html>'
          % ''.join('<p>%s</p>' % story(n, 40) for n in range(1000)),
        }
      ),
      _line({'url': 'https://quick.example/', 'text': story(9)}),
    ],
  )
  config = tmp_path / 'budget.yaml'
  config.write_text('extract:\n  timeout_seconds: 0.5\n')
  output = str(tmp_path / 'out')
  ingest.run(['--scraped', str(scraped), '--config', str(config), '--output', output])
  out = read_outputs(output)
  assert [(d['url'], d['stage'], d['error'].split(':')[0]) for d in out['dead_letter']] == [
    ('https://slow.example/', 'extract', 'timeout')
  ]
  assert [a['url'] for a in out['articles']] == ['https://quick.example/']


def test_limits_are_validated():
  from configs.loading import ConfigError, validate

  config = load_config()
  for key, value in (('max_html_bytes', 10), ('timeout_seconds', -1), ('timeout_seconds', 'soon')):
    bad = dict(config, extract=dict(config['extract'], **{key: value}))
    with pytest.raises(ConfigError, match='extract.%s' % key):
      validate(bad)


def test_a_file_without_newlines_is_read_in_bounded_memory(tmp_path):
  import tracemalloc

  path = tmp_path / 'garbage.jsonl'
  with open(path, 'wb') as f:
    for _ in range(50):  # 50 MB without a newline, then a good line
      f.write(b'x' * 2**20)
    f.write(b'\n' + _line({'url': 'https://after.example/', 'text': 'ok'}))
  tracemalloc.start()
  with open(path, 'rb') as f:
    lines = list(bounded_lines(f, 1000))
  peak = tracemalloc.get_traced_memory()[1]
  tracemalloc.stop()
  assert [len(line) for line in lines[:1]] == [1001] and len(lines) == 2
  assert peak < 8 * 2**20  # a few 1 MB chunks, not the 50 MB line
  kinds = [parse_scraped_line(line, 1000)[0] for line in lines]
  assert kinds == ['dead_letter', 'page']


@pytest.mark.parametrize('chunk_bytes', [1, 3, 7, 1 << 20])
def test_bounded_lines_are_the_file_s_lines(tmp_path, chunk_bytes):
  import io

  data = b'one\n\ntwo two\nthree three three\nlast'
  assert list(bounded_lines(io.BytesIO(data), 100, chunk_bytes)) == [
    b'one\n',
    b'\n',
    b'two two\n',
    b'three three three\n',
    b'last',
  ]
  assert list(bounded_lines(io.BytesIO(data), 4, chunk_bytes)) == [
    b'one\n',
    b'\n',
    b'two t',
    b'three',
    b'last',
  ]
