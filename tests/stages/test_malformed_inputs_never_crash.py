"""Property tests: whatever the input, the per-record functions give a record
or a dead letter (never an exception), records can be encoded and written,
and no markup survives into a body or title."""

import functools
import json
import os
import re

from apache_beam.pvalue import TaggedOutput
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from configs.loading import load_config
from transforms import extract, schema
from transforms.io.feeds import parse_feed_document
from transforms.io.scraped import parse_scraped_line
from transforms.language.detector import LanguageDetector
from transforms.text.cleaning import ArticleCleaner
from transforms.text.urls import is_url

LIMIT = 100000
# NEWSBEAM_FUZZ_EXAMPLES raises the count for a longer local hunt.
FUZZ = settings(
  max_examples=int(os.environ.get('NEWSBEAM_FUZZ_EXAMPLES', 150)),
  deadline=None,
  suppress_health_check=[HealthCheck.too_slow],
)
_TAG_START = re.compile(r'<[a-zA-Z/!?]')

# Text that looks like the web's: markup characters, entities, tag names,
# scripts, control and zero-width characters, other scripts.
_PIECES = [
  '<',
  '>',
  '</',
  '/>',
  '&',
  ';',
  '"',
  "'",
  '=',
  '<!--',
  '-->',
  '<![CDATA[',
  ']]>',
  '&lt;',
  '&gt;',
  '&amp;',
  '&#60;',
  '&#x3c;',
  '&nbsp;',
  'script',
  'style',
  'p',
  'div',
  'a',
  'img',
  'svg',
  'title',
  'onerror',
  'onload',
  'javascript:',
  'alert(1)',
  'href',
  'src',
  ' ',
  '\n',
  '\n\n',
  '\x00',
  '\u200b',
  '\ufeff',
  'the',
  'news',
  'Story.',
  'é',
  'ü',
  'مرحبا',
  'Привет',
  '中文',
  '\t',
  '\r',
]
web_text = st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=8)), max_size=60).map(
  ''.join
)


def html_tree(depth=3):
  """Random (ill-formed, often) HTML built from real tags and hostile
  attributes."""
  tags = st.sampled_from(
    [
      'p',
      'div',
      'article',
      'script',
      'style',
      'a',
      'img',
      'svg',
      'h1',
      'title',
      'span',
      'noscript',
      'iframe',
      'br',
      'li',
      'table',
      'td',
    ]
  )
  attrs = st.sampled_from(
    [
      '',
      ' onerror="alert(1)"',
      ' onload=alert(1)',
      ' href="javascript:alert(1)"',
      ' class="x"',
      ' src=x',
      ' style="x:expression(1)"',
    ]
  )
  leaf = web_text
  return st.recursive(
    leaf,
    lambda children: st.builds(
      lambda tag, attr, kids, close: (
        '<%s%s>%s%s' % (tag, attr, ''.join(kids), '</%s>' % tag if close else '')
      ),
      tags,
      attrs,
      st.lists(children, max_size=4),
      st.booleans(),
    ),
    max_leaves=20,
  )


def assert_plain_text(text):
  if text:
    assert not _TAG_START.search(text), text
    assert '<script' not in text.lower()


def assert_writable(record):
  # What the writers do: one JSON line, UTF-8.
  line = schema.to_json_line(record).encode('utf-8')
  assert json.loads(line.decode('utf-8')) is not None


def assert_read_result(kind, record):
  assert kind in ('page', 'dead_letter')
  assert_writable(record)
  if kind == 'page':
    assert is_url(record['url'])
  else:
    assert record['stage'] and record['error']


def assert_page_extracts_to_plain_text(kind, record):
  """A page read from any input extracts to plain, writable text."""
  if kind == 'page':
    article = extract.build_article(record)
    assert_plain_text(article['body'])
    assert_plain_text(article['title'])
    assert_writable(article)


# Reading scraped lines.


@FUZZ
@given(st.binary(max_size=2000))
def test_any_bytes_give_a_page_or_a_dead_letter(line):
  assert_read_result(*parse_scraped_line(line, LIMIT, 'fuzz:1'))


json_values = st.recursive(
  st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
  lambda children: (
    st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
  ),
  max_leaves=10,
)
scraped_objects = st.fixed_dictionaries(
  {},
  optional={
    'url': st.one_of(
      json_values, st.sampled_from(['https://a.example/x', 'javascript:alert(1)', 'http://', ' '])
    ),
    'html': st.one_of(json_values, html_tree()),
    'text': st.one_of(json_values, web_text),
    'title': st.one_of(json_values, web_text),
    'authors': json_values,
    'published_at': json_values,
    'fetched_at': st.one_of(
      json_values, st.sampled_from(['2022-04-05T10:00:00Z', '2022-13-45', 'yesterday'])
    ),
    'summary': st.one_of(json_values, web_text),
  },
)


@FUZZ
@given(scraped_objects)
def test_any_json_object_gives_a_page_or_a_dead_letter(obj):
  line = json.dumps(obj).encode('utf-8')
  kind, record = parse_scraped_line(line, LIMIT, 'fuzz:1')
  assert_read_result(kind, record)
  assert_page_extracts_to_plain_text(kind, record)


# Reading feeds.


def feed_xml():
  tags = st.sampled_from(
    [
      'rss',
      'channel',
      'item',
      'title',
      'link',
      'description',
      'feed',
      'entry',
      'content',
      'summary',
      'id',
      'author',
      'pubDate',
      'updated',
      'rdf:RDF',
      'guid',
      'content:encoded',
    ]
  )
  text = st.one_of(
    web_text,
    st.sampled_from(
      [
        'https://f.example/a',
        'javascript:alert(1)',
        '&#xD800;',
        '&#0;',
        '&undefined;',
        'Mon, 04 Apr 2022 09:00:00 +0000',
      ]
    ),
  )
  body = st.recursive(
    text,
    lambda children: st.builds(
      lambda tag, kids, close: '<%s>%s%s' % (tag, ''.join(kids), '</%s>' % tag if close else ''),
      tags,
      st.lists(children, max_size=4),
      st.booleans(),
    ),
    max_leaves=25,
  )
  prolog = st.sampled_from(
    [
      '',
      '<?xml version="1.0"?>',
      '<?xml version="1.0" encoding="latin-1"?>',
      '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY e "%s">]>' % ('x' * 50),
    ]
  )
  return st.builds(lambda p, b: p + b, prolog, body)


@FUZZ
@given(st.binary(max_size=2000))
def test_any_bytes_as_a_feed_give_records_or_a_dead_letter(data):
  out = list(parse_feed_document(data, 'fuzz.xml'))
  assert out
  for kind, record in out:
    assert_read_result(kind, record)


@FUZZ
@given(feed_xml())
def test_junk_xml_feeds_give_records_or_a_dead_letter(document):
  out = list(parse_feed_document(document.encode('utf-8'), 'fuzz.xml'))
  assert out
  for kind, record in out:
    assert_read_result(kind, record)
    assert_page_extracts_to_plain_text(kind, record)


# Extraction.


@functools.cache
def _config():
  return load_config()


@functools.cache
def _extract_fn():
  config = _config()
  # In-process (no time budget) so that Hypothesis sees every example run.
  fn = extract._ExtractFn(dict(config['extract'], timeout_seconds=0))
  fn.setup()
  return fn


@FUZZ
@given(html_tree(), st.sampled_from(['html', 'content_html', 'text']))
def test_extraction_stage_gives_one_plain_text_output_for_any_markup(markup, field):
  # The stage's DoFn itself: exactly one output per page, and no exception
  # (trafilatura raises AssertionError on a bare '<svg><p><p>': a dead letter).
  outputs = list(
    _extract_fn().process(
      {'url': 'https://x.example/a', field: markup, 'title': markup, 'raw': markup}
    )
  )
  assert len(outputs) == 1
  output = outputs[0]
  if isinstance(output, TaggedOutput):
    assert output.tag in ('rejected', 'dead_letter')
    output = output.value
  if output.get('stage'):
    assert output['stage'] == 'extract' and output['error']
  else:
    assert_plain_text(output['body'])
    assert_plain_text(output['title'])
  assert_writable(output)


@FUZZ
@given(web_text)
def test_normalized_text_is_plain_and_stable(text):
  once = extract.normalize_text(text)
  assert_plain_text(once)
  assert '\n\n\n' not in once and once == once.strip()


# Cleaning and language.


@functools.cache
def _cleaner_and_detector():
  return (ArticleCleaner(_config()['clean']), LanguageDetector(_config()['language']))


paragraphs = st.lists(
  st.one_of(
    web_text,
    st.sampled_from(
      [
        'Share on Facebook Twitter',
        'Read more',
        'Storm hits coast',
        'Disclaimer: views are mine.',
        'A long sentence about the council vote '
        'on the tram line and the new hospital budget for next year.',
      ]
    ),
  ),
  max_size=12,
)


@FUZZ
@given(paragraphs, st.one_of(st.none(), web_text))
def test_cleaning_and_language_never_raise_or_add_markup(blocks, title):
  cleaner, detector = _cleaner_and_detector()
  article = schema.new_article(
    url='https://x.example/a',
    title=extract.normalize_text(title) or None,
    body=extract.normalize_text('\n\n'.join(blocks)),
  )
  for story in cleaner.clean(article):
    labelled = detector.label(story)
    assert_plain_text(labelled['body'])
    assert_plain_text(labelled['title'])
    assert_writable(labelled)
