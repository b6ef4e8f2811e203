"""Sitemaps: indexes, urlsets, Google News sitemaps, gzip, robots.txt
`Sitemap:` lines, loops and missing children, served by a loopback server;
every listed page is fetched and ends in exactly one output; what a news
sitemap says fills what a page lacks (its language where the detector cannot
tell); a second run asks the sitemaps and pages conditionally."""

import gzip
import json

from pipelines import backfill, ingest
from tests.helpers import read_day, read_outputs, story, story_page
from transforms.io.sitemaps import (
  crawl_sitemaps,
  parse_sitemap,
  record_language,
  robots_sitemaps,
)

URLSET = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" %s>%s</urlset>'
NEWS_NS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def _urlset(*entries) -> bytes:
  return (URLSET % (NEWS_NS, ''.join(entries))).encode()


def _url(loc, lastmod=None, published=None, title=None, language=None) -> str:
  news = ''
  if published or title:
    news = (
      '<news:news><news:publication><news:name>Example</news:name>'
      '<news:language>%s</news:language></news:publication>'
      '<news:publication_date>%s</news:publication_date><news:title>%s</news:title>'
      '</news:news>' % (language or 'en', published or '', title or '')
    )
  return '<url><loc>%s</loc>%s%s</url>' % (
    loc,
    '<lastmod>%s</lastmod>' % lastmod if lastmod else '',
    news,
  )


def _index(*locs) -> bytes:
  return (
    '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">%s</sitemapindex>'
    % ''.join('<sitemap><loc>%s</loc></sitemap>' % loc for loc in locs)
  ).encode()


def test_a_google_news_sitemap_gives_each_page_with_its_dates_and_title():
  children, pages = parse_sitemap(
    gzip.compress(
      _urlset(
        _url('/a', lastmod='2024-03-02', published='2024-03-01T08:00:00+01:00', title='A'),
        _url('https://news.example/b', lastmod='2024-03-03T10:00:00Z'),
      )
    ),
    'https://news.example/sitemap.xml.gz',
  )
  assert children == []
  assert pages == [
    {
      'url': 'https://news.example/a',
      'lastmod': '2024-03-02T00:00:00Z',
      'published_at': '2024-03-01T07:00:00Z',
      'title': 'A',
      'language': 'en',
    },
    {
      'url': 'https://news.example/b',
      'lastmod': '2024-03-03T10:00:00Z',
      'published_at': None,
      'title': None,
      'language': None,
    },
  ]


def test_robots_txt_names_the_sitemaps():
  robots = 'User-agent: *\nDisallow: /admin\nSitemap: /news.xml\nsitemap: https://x.example/s.xml\n'
  assert robots_sitemaps(robots, 'https://news.example/robots.txt') == [
    'https://news.example/news.xml',
    'https://x.example/s.xml',
  ]


def test_loops_and_depth_are_bounded_and_a_failing_child_is_named():
  documents = {
    'root': _index('a', 'root', 'missing'),
    'a': _index('b'),
    'b': _index('c'),
    'c': _urlset(_url('https://news.example/deep')),
  }

  def read(url):
    if url not in documents:
      raise OSError('http_404: %s' % url)
    return documents[url]

  found = list(crawl_sitemaps('root', read, max_depth=2, max_files=10))
  assert ('error', ('missing', 'http_404: missing')) in found
  # root -> a -> b is two levels; c would be the third.
  assert any(kind == 'error' and item[0] == 'c' and 'max_depth' in item[1] for kind, item in found)
  assert [kind for kind, _ in found].count('page') == 0
  deep = list(crawl_sitemaps('root', read, max_depth=3, max_files=10))
  assert [item[1]['url'] for kind, item in deep if kind == 'page'] == ['https://news.example/deep']


def _site(server):
  """A site whose robots.txt lists a gzipped sitemap index; the index lists
  a Google News sitemap, a nested index, itself (a loop) and a child that
  is missing."""
  pages = {
    '/2024/tram': story_page('tram'),
    '/2024/storm': story_page('storm'),
    '/2024/final': story_page('final'),
  }
  for path, body in pages.items():
    server.routes[path] = (200, {'Content-Type': 'text/html; charset=utf-8'}, body)
  url = server.url
  server.routes['/robots.txt'] = (
    200,
    {'Content-Type': 'text/plain'},
    ('User-agent: *\nDisallow: /private/\nSitemap: %s\n' % url('/sitemap_index.xml.gz')).encode(),
  )
  server.routes['/sitemap_index.xml.gz'] = (
    200,
    {'Content-Type': 'application/gzip'},
    gzip.compress(
      _index(
        url('/news.xml'), url('/more_index.xml'), url('/sitemap_index.xml.gz'), url('/gone.xml')
      )
    ),
  )
  server.routes['/news.xml'] = (
    200,
    {'Content-Type': 'application/xml'},
    _urlset(
      _url(url('/2024/tram'), published='2024-03-01T08:00:00Z', title='Tram line to the hospital'),
      _url(url('/2024/storm'), published='2024-03-02T08:00:00Z', title='Storm'),
      # Listed, but the server has no such page: a dead letter.
      _url(url('/2024/lost'), published='2024-03-02T09:00:00Z', title='Lost'),
      # Listed, but robots.txt disallows it: a dead letter.
      _url(url('/private/memo'), published='2024-03-02T09:00:00Z'),
    ),
  )
  server.routes['/more_index.xml'] = (200, {}, _index(url('/older.xml')))
  server.routes['/older.xml'] = (200, {}, _urlset(_url(url('/2024/final'), lastmod='2024-02-20')))
  return url('/'), sorted(url(p) for p in pages)


def test_ingest_fetches_every_listed_page_into_exactly_one_output(http_server, tmp_path):
  site, pages = _site(http_server)
  output = tmp_path / 'out'
  summary = ingest.run(
    ['--sitemaps', site, '--allow-private-hosts', '--output', str(output), '--no-index']
  )
  out = read_outputs(output)
  ended = sorted(r['url'] for name in ('articles', 'duplicates', 'rejected') for r in out[name])
  assert ended == pages
  dead = {(r['stage'], r['url'] or r['raw']) for r in out['dead_letter']}
  assert dead == {
    ('read_sitemap', http_server.url('/gone.xml')),
    ('fetch_article', http_server.url('/2024/lost')),
    ('fetch_article', http_server.url('/private/memo')),
  }
  tram = next(r for r in out['articles'] if r['url'].endswith('/tram'))
  # The page has no date of its own: the news sitemap's is kept.
  assert tram['published_at'] == '2024-03-01T08:00:00Z' and tram['title'] == 'Tram'
  assert summary['outputs']['dead_letter'] == 3
  # The loop was read once.
  assert http_server.count('/sitemap_index.xml.gz') == 1


def test_a_backfill_fetches_only_the_pages_dated_in_its_range(http_server, tmp_path):
  site, _ = _site(http_server)
  output = tmp_path / 'out'
  backfill.run(
    [
      '--start',
      '2024-03-01',
      '--end',
      '2024-03-02',
      '--sitemaps',
      site,
      '--allow-private-hosts',
      '--output',
      str(output),
      '--no-index',
    ]
  )
  first, second = read_day(output, '2024-03-01'), read_day(output, '2024-03-02')
  assert [r['url'] for r in first['articles']] == [http_server.url('/2024/tram')]
  assert [r['url'] for r in second['articles']] == [http_server.url('/2024/storm')]
  # The February page is not fetched, and counted as skipped.
  assert http_server.count('/2024/final') == 0
  assert first['summary']['skipped'] == {'sitemap_outside_range': 1}
  # The sitemap that is missing is reported on the range's first day, the
  # pages that could not be fetched on the day their sitemap gives them.
  assert [r['stage'] for r in first['dead_letter']] == ['read_sitemap']
  assert [r['stage'] for r in second['dead_letter']] == ['fetch_article'] * 2


def test_a_news_language_code_becomes_the_code_records_hold():
  assert [record_language(c) for c in ('en', 'EN', 'en-GB', 'zh-cn', 'zh-tw', 'pt_BR')] == [
    'en',
    'en',
    'en',
    'zh',
    'zh',
    'pt',
  ]
  # ISO 639-2/T and 639-2/B, which news:language also allows.
  assert [record_language(c) for c in ('deu', 'ger', 'swa', 'fre', 'fra')] == [
    'de',
    'de',
    'sw',
    'fr',
    'fr',
  ]
  assert [record_language(c) for c in (None, '', 'xyz', 'english', '12')] == [None] * 5


# Market figures: no language a detector can tell (lingua reads them as
# Vietnamese at 0.2).
MARKETS = ''.join(
  '<p>NSE 20: 1,712.4 (+0.8%%). NASI: 98.1 (-0.2%%). USD/KES 129.5. EUR/KES 140.%d.</p>' % i
  for i in range(4)
)
# A story without a title, a headline or a date of its own.
UNTITLED = '<p>%s</p>' % ' '.join([story('storm')] * 2)


def test_what_a_news_sitemap_says_fills_what_the_page_lacks(http_server, tmp_path):
  url = http_server.url
  html = {'Content-Type': 'text/html; charset=utf-8'}
  http_server.routes['/markets'] = (200, html, b'<html><body>%s</body></html>' % MARKETS.encode())
  http_server.routes['/storm'] = (200, html, b'<html><body>%s</body></html>' % UNTITLED.encode())
  http_server.routes['/tram'] = (200, html, story_page('tram'))
  http_server.routes['/news.xml'] = (
    200,
    {'Content-Type': 'application/xml'},
    _urlset(
      _url(url('/markets'), published='2024-03-01T06:00:00Z', title='Markets', language='swa'),
      _url(
        url('/storm'),
        published='2024-03-02T08:00:00Z',
        title='Storm warning for the coast',
        language='en',
      ),
      # Declared German, plainly English: the detector's sure label stands.
      _url(url('/tram'), published='2024-03-01T07:00:00Z', title='Tram', language='de'),
    ),
  )
  output = tmp_path / 'out'
  ingest.run(
    ['--sitemaps', url('/news.xml'), '--allow-private-hosts', '--output', str(output)]
    + ['--no-index', '--min-words', '5']
  )
  out = read_outputs(output)
  assert out['dead_letter'] == [] and out['rejected'] == []
  articles = {r['url'].rsplit('/', 1)[1]: r for r in out['articles']}
  assert (articles['markets']['language'], articles['markets']['language_score']) == ('sw', None)
  assert any('news:language' in w for w in articles['markets']['warnings'])
  assert articles['tram']['language'] == 'en' and articles['tram']['language_score'] >= 0.5
  storm = articles['storm']
  assert (storm['title'], storm['published_at'], storm['language']) == (
    'Storm warning for the coast',
    '2024-03-02T08:00:00Z',
    'en',
  )
  # What the sitemap said is used, never written as a field of its own.
  assert all('fallback' not in r for r in out['articles'])


def _answering_304(status_headers, body, validator):
  """A route that answers 304 to a request carrying `validator` (an ETag or a
  Last-Modified) back, else 200 with `body`."""
  name, value = validator
  asked = {'ETag': 'If-None-Match', 'Last-Modified': 'If-Modified-Since'}[name]

  def route(handler):
    if handler.headers.get(asked) == value:
      handler.respond(304, {name: value}, b'')
    else:
      handler.respond(200, dict(status_headers, **{name: value}), body)

  return route


def _conditional_site(server, with_new_page: bool):
  url = server.url
  html = {'Content-Type': 'text/html; charset=utf-8'}
  for name in ('tram', 'storm', 'final', 'budget'):
    server.routes['/%s' % name] = _answering_304(html, story_page(name), ('ETag', '"%s-1"' % name))
  server.routes['/robots.txt'] = (200, {}, b'Sitemap: %s\n' % url('/index.xml').encode())
  # An index may point to changed sitemaps however unchanged it is: it is
  # read whole every time, whatever its ETag.
  server.routes['/index.xml'] = _answering_304(
    {}, _index(url('/news.xml'), url('/older.xml')), ('ETag', '"index-1"')
  )
  listed = ['tram', 'storm'] + (['budget'] if with_new_page else [])
  server.routes['/news.xml'] = _answering_304(
    {},
    _urlset(*(_url(url('/' + name), published='2024-03-01T08:00:00Z') for name in listed)),
    ('ETag', '"news-%d"' % len(listed)),
  )
  server.routes['/older.xml'] = _answering_304(
    {},
    _urlset(_url(url('/final'), lastmod='2024-02-20')),
    ('Last-Modified', 'Tue, 20 Feb 2024 10:00:00 GMT'),
  )
  return url('/')


def _conditional_requests(server):
  return sorted(
    path
    for path, headers in server.requests
    if 'If-None-Match' in headers or 'If-Modified-Since' in headers
  )


def test_a_second_run_asks_sitemaps_and_their_pages_conditionally(http_server, tmp_path):
  state, output = tmp_path / 'fetch_state.json', tmp_path / 'out'
  args = ['--sitemaps', _conditional_site(http_server, with_new_page=False)]
  args += ['--allow-private-hosts', '--fetch-state', str(state), '--output', str(output)]
  first = ingest.run(args + ['--no-index'])
  assert first['outputs']['articles'] == 3 and _conditional_requests(http_server) == []
  # The sitemaps of pages and the pages are kept; the index is not.
  kept = {key.rsplit('/', 1)[1] for key in json.loads(state.read_text())}
  assert kept == {'news.xml', 'older.xml', 'tram', 'storm', 'final'}

  # The news sitemap lists a new page; the older one is unchanged.
  http_server.requests.clear()
  _conditional_site(http_server, with_new_page=True)
  second = ingest.run(args + ['--no-index'])
  assert _conditional_requests(http_server) == ['/news.xml', '/older.xml', '/storm', '/tram']
  # The unchanged sitemap's page is not asked for at all, the new page is
  # fetched whole, the unchanged pages are counted, not dead letters.
  assert http_server.count('/final') == 0 and http_server.count('/budget') == 1
  assert second['outputs'] == {'articles': 1, 'duplicates': 0, 'rejected': 0, 'dead_letter': 0}
  assert second['skipped'] == {'page_not_modified': 2, 'sitemap_not_modified': 1}
  assert [r['url'] for r in read_outputs(output)['articles']] == [http_server.url('/budget')]
