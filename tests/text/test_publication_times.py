"""A record's `published_at` keeps the time of day wherever the page or
feed gives one (in UTC); a bare day stays a bare day, and dedup ranks a
known time before a bare day of the same day, so an original published at
08:15 is not filed as the duplicate of a copy published at 09:00."""

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipelines import ingest
from tests.helpers import read_outputs, story, write_jsonl
from transforms import schema
from transforms.dedup.batch import Deduplicate
from transforms.dedup.rules import keep_rank
from transforms.extract import build_articles
from transforms.io.feeds import parse_feed_document
from transforms.io.scraped import parse_scraped_line
from transforms.io.timestamps import publication_rank, publication_time
from transforms.streaming.clock import epoch_of

PARAGRAPHS = ''.join('<p>%s</p>' % s for s in story('storm').split(' Report'))


def _page(head='', above=''):
  return (
    '<html><head><title>Storm warning</title>%s</head><body><article>'
    '<h1>Storm warning</h1>%s%s</article></body></html>' % (head, above, PARAGRAPHS)
  )


def _published_at(page_html, config, fetched_at='2022-04-05T12:00:00Z'):
  page = {'url': 'https://coast.example/storm', 'html': page_html, 'fetched_at': fetched_at}
  return build_articles(page, config['extract'])[0]['published_at']


@pytest.mark.parametrize(
  'head, above, expected',
  [
    (
      '<meta property="article:published_time" content="2022-04-05T09:00:00+02:00">',
      '',
      '2022-04-05T07:00:00Z',
    ),
    (
      '<script type="application/ld+json">{"@type": "NewsArticle", '
      '"datePublished": "2022-04-05T09:00:00Z", "dateModified": "2022-04-05T11:30:00Z"}'
      '</script>',
      '',
      '2022-04-05T09:00:00Z',
    ),
    ('', '<time datetime="2022-04-05T09:30:00-04:00">5 April</time>', '2022-04-05T13:30:00Z'),
    # A time without a zone is taken as UTC.
    (
      '<meta property="article:published_time" content="2022-04-05T09:00:00">',
      '',
      '2022-04-05T09:00:00Z',
    ),
    # Only a day: it stays a day, no midnight is made up.
    ('<meta property="article:published_time" content="2022-04-05">', '', '2022-04-05'),
    ('', '<p class="date">Published 5 April 2022</p>', '2022-04-05'),
  ],
)
def test_page_date_keeps_its_time_of_day_in_utc(config, head, above, expected):
  assert _published_at(_page(head, above), config) == expected


def test_pages_published_at_distinct_hours_keep_distinct_times(config):
  # 50 pages, 25 minutes apart, dated in a zone two hours ahead of UTC.
  minutes = [n * 25 + 120 for n in range(50)]
  expected = ['2022-04-05T%02d:%02d:00Z' % divmod(m - 120, 60) for m in minutes]
  meta = '<meta property="article:published_time" content="2022-04-05T%02d:%02d:00+02:00">'
  times = [_published_at(_page(meta % divmod(m, 60)), config) for m in minutes]
  assert times == expected


def test_date_after_the_day_after_the_fetch_is_still_refused(config):
  head = '<meta property="article:published_time" content="2022-04-07T09:00:00Z">'
  assert not (_published_at(_page(head), config) or '').startswith('2022-04-07')
  # The day after the fetch is accepted with its time.
  head = '<meta property="article:published_time" content="2022-04-06T23:00:00Z">'
  assert _published_at(_page(head), config) == '2022-04-06T23:00:00Z'


FEED = b'''<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://n.example/"><title>T</title><link>https://n.example/</link>
<description>d</description></channel>
<item rdf:about="https://n.example/timed"><title>Timed</title><link>https://n.example/timed</link>
<description>Timed entry.</description><dc:date>2022-04-05T08:15:00+02:00</dc:date></item>
<item rdf:about="https://n.example/day"><title>Day</title><link>https://n.example/day</link>
<description>Day entry.</description><dc:date>2022-04-05</dc:date></item>
</rdf:RDF>'''


def test_feed_entry_dates_keep_their_time_and_bare_days_stay_days():
  pages = {r['url']: r for kind, r in parse_feed_document(FEED, 'feeds/n.rdf') if kind == 'page'}
  assert pages['https://n.example/timed']['published_at'] == '2022-04-05T06:15:00Z'
  assert pages['https://n.example/day']['published_at'] == '2022-04-05'


def test_scraped_record_dates_keep_their_precision():
  def published(value):
    line = schema.to_json_line({'url': 'https://a.example/x', 'text': 't', 'published_at': value})
    return parse_scraped_line(line.encode(), 10000)[1]['published_at']

  assert published('2022-04-05T09:00:00+02:00') == '2022-04-05T07:00:00Z'
  assert published('2022-04-05') == '2022-04-05'
  assert published('yesterday') is None
  assert publication_time('yesterday') is None


def test_an_exact_time_ranks_before_a_bare_day_of_the_same_day():
  ranked = sorted(
    ['2022-04-06T00:10:00Z', '2022-04-05', None, '2022-04-05T23:59:00Z', '2022-04-04'],
    key=publication_rank,
  )
  assert ranked == [
    '2022-04-04',
    '2022-04-05T23:59:00Z',
    '2022-04-05',
    '2022-04-06T00:10:00Z',
    None,
  ]
  assert epoch_of('2022-04-05') == epoch_of('2022-04-05T00:00:00Z')


def _record(url, published_at, body=None):
  body = body or story('storm')
  return schema.with_id(
    schema.new_article(url=url, canonical_url=url, body=body, published_at=published_at)
  )


def test_dedup_keeps_the_timed_original_over_a_bare_day_copy(config):
  original = _record('https://wire.example/storm', '2022-04-05T08:15:00Z')
  copy = _record('https://copy.example/storm', '2022-04-05')
  assert sorted([copy, original], key=keep_rank)[0] is original
  with TestPipeline() as p:
    kept, duplicates, _ = p | beam.Create([copy, original]) | Deduplicate(config['dedup'])
    assert_that(kept | beam.Map(lambda a: a['url']), equal_to([original['url']]), label='kept')
    assert_that(
      duplicates | beam.Map(lambda d: (d['url'], d['duplicate_of'])),
      equal_to([(copy['url'], original['id'])]),
      label='duplicates',
    )


RSS = '''<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><title>Storm warning</title><link>https://wire.example/storm</link>
<pubDate>Tue, 05 Apr 2022 08:15:00 +0000</pubDate><description>{body}</description></item>
</channel></rss>'''


def test_syndicated_copy_at_nine_is_the_duplicate_of_the_feed_item_at_quarter_past_eight(tmp_path):
  feed = tmp_path / 'wire.rss'
  feed.write_text(RSS.format(body=story('storm')), encoding='utf-8')
  meta = '<meta property="article:published_time" content="2022-04-05T09:00:00Z">'
  write_jsonl(
    tmp_path / 'pages.jsonl',
    [
      {
        'url': 'https://copy.example/storm',
        'html': _page(meta),
        'fetched_at': '2022-04-05T10:00:00Z',
      }
    ],
  )
  output = tmp_path / 'out'
  ingest.run(
    ['--feeds', str(feed), '--scraped', str(tmp_path / 'pages.jsonl'), '--output', str(output)]
    + ['--no-index']
  )
  out = read_outputs(output)
  assert [(a['url'], a['published_at']) for a in out['articles']] == [
    ('https://wire.example/storm', '2022-04-05T08:15:00Z')
  ]
  assert [(d['url'], d['published_at']) for d in out['duplicates']] == [
    ('https://copy.example/storm', '2022-04-05T09:00:00Z')
  ]
