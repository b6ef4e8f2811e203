"""Fetching over HTTP against a real server on 127.0.0.1 with faults: retries,
timeouts, redirect loops, a 60 MB body, mislabelled charsets, conditional
GET, robots.txt, private-host refusal; and the pipeline end to end with
--fetch-articles (fallbacks, dead letters, the ledger, the state file).

No traffic leaves 127.0.0.1: the public-address checks use literal IPs.
"""

import datetime
import gzip
import json
import os
import threading
import time

import apache_beam as beam
import pytest
import requests
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipelines import ingest
from tests.helpers import read_outputs
from transforms.fetch.charset import detect_charset
from transforms.fetch.client import Fetcher, FetchOptions, retry_delay
from transforms.fetch.errors import FetchError
from transforms.fetch.guard import PublicOnlyAdapter, blocked_address_reason, check_host
from transforms.fetch.state import FETCH_STATE, load_state, save_state, validators_of
from transforms.io.feeds import ReadFeedDocuments
from transforms.schema import DEAD_LETTER

RETRIES = 2
MAX_BYTES = 1000000
HUGE_BYTES = 60 * 1000 * 1000
# Tiny timeouts and backoff keep the suite fast.
FETCH_CONFIG = {
  'connect_timeout': 0.5,
  'read_timeout': 0.5,
  'total_timeout': 5,
  'retries': RETRIES,
  'backoff': 0.01,
  'max_backoff': 1,
  'max_redirects': 3,
  'max_bytes': MAX_BYTES,
  'user_agent': 'newsbeam-test/1.0',
  'per_host_concurrency': 2,
  'per_host_delay': 0,
  'respect_robots': True,
  'robots_cache_sites': 10,
  'state_path': None,
}
ETAG = '"edition-1"'
LAST_MODIFIED = 'Mon, 04 Apr 2022 09:00:00 GMT'

STORY = (
  'The harbour authority said on Tuesday that the new ferry terminal '
  'will open in the spring, after two years of delays caused by the '
  'storms that damaged the old pier. '
)
FISH = (
  'Traders at the old fish market protested on Monday against the rent '
  'increase proposed by the city, saying that half of the stalls could '
  'close before winter if the council does not change its plan.'
)
LIGHTHOUSE = (
  'Volunteers repainted the lighthouse on the northern cape over '
  'the weekend, the first restoration since the keeper\'s cottage '
  'became a small museum of shipwrecks in 1998.'
)
PIER = (
  'Engineers began repairing the damaged pier on Wednesday; the work is '
  'expected to take three months and will close the promenade to '
  'walkers and anglers until the summer season starts.'
)


def _paragraphs(topic, n=6):
  return ''.join(
    '<p>%s %s report number %d follows the council meeting.</p>' % (STORY, topic, i)
    for i in range(n)
  )


def _page(title, topic):
  return (
    '<html><head><title>%s</title></head><body><nav>Home | World</nav>'
    '<article><h1>%s</h1>%s</article><footer>Contact us</footer>'
    '</body></html>' % (title, title, _paragraphs(topic))
  ).encode()


def _rss(items):
  """items: (title, link, summary or None)."""
  out = [
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Harbour News</title>'
  ]
  for title, link, summary in items:
    out.append(
      '<item><title>%s</title><link>%s</link>%s</item>'
      % (title, link, '<description>%s</description>' % summary if summary else '')
    )
  out.append('</channel></rss>')
  return ''.join(out).encode('utf-8')


HTML = 'text/html; charset=utf-8'


def _response(status, body=b'', content_type=HTML, headers=None):
  """A route of the `http_server` fixture: (status, headers, body)."""
  return status, dict({'Content-Type': content_type}, **(headers or {})), body


def _flaky(handler):
  if handler.server.count(handler.path) == 1:
    handler.respond(*_response(503, b'busy', headers={'Retry-After': '0'}))
  else:
    handler.respond(*_response(200, _page('Ferry terminal opens', 'flaky')))


def _slow(handler):
  time.sleep(1.0)  # twice the read timeout
  handler.respond(*_response(200, b'too late'))


def _huge(handler):
  """60 MB, streamed in chunks with no Content-Length (nothing to refuse
  up front): the client must stop reading by itself."""
  handler.send_response(200)
  handler.send_header('Content-Type', 'text/html')
  handler.end_headers()
  chunk, sent = b'<p>' + b'x' * (64 * 1024 - 3), 0
  try:
    while sent < HUGE_BYTES:
      handler.wfile.write(chunk)
      sent += len(chunk)
  except OSError:
    pass
  handler.server.huge_sent.append(sent)


def _conditional_feed(handler):
  headers = {'ETag': ETAG, 'Last-Modified': LAST_MODIFIED}
  if handler.headers.get('If-None-Match') == ETAG:
    handler.respond(*_response(304, headers=headers))
    return
  handler.respond(
    *_response(
      200,
      _rss(
        [
          ('Ferry terminal to open in spring', 'https://harbour.example/ferry', STORY),
          ('Pier repairs begin', 'https://harbour.example/pier', PIER),
        ]
      ),
      'application/rss+xml',
      headers,
    )
  )


def _busy(handler):
  """Holds each request a moment, recording how many overlap."""
  server = handler.server
  with server.lock:
    server.in_flight += 1
    server.most_in_flight = max(server.most_in_flight, server.in_flight)
  time.sleep(0.1)
  with server.lock:
    server.in_flight -= 1
  handler.respond(*_response(200, b'ok'))


def _redirect(target):
  return _response(302, headers={'Location': target})


@pytest.fixture
def server(http_server):
  """The shared loopback server (the `http_server` fixture), with fault routes."""
  http_server.huge_sent = []
  http_server.in_flight = http_server.most_in_flight = 0
  utf8_page = (
    '<html><head><meta charset="utf-8"><title>Café</title></head>'
    '<body><p>Café crème à la gare</p></body></html>'
  )
  latin_page = utf8_page.replace('utf-8', 'iso-8859-1')
  gzipped = gzip.compress(_rss([('Gzip', 'https://harbour.example/gz', STORY)]))
  http_server.routes.update(
    {
      '/flaky': _flaky,
      '/busy': _busy,
      '/broken': _response(500, b'server error'),
      '/slow': _slow,
      '/huge': _huge,
      '/loop/a': _redirect('/loop/b'),
      '/loop/b': _redirect('/loop/a'),
      '/chain/1': _redirect('/chain/2'),
      '/chain/2': _redirect('/chain/3'),
      '/chain/3': _redirect('/chain/4'),
      '/chain/4': _redirect('/chain/5'),
      '/chain/5': _response(200, b'end of the chain'),
      '/to-file': _redirect('file:///etc/passwd'),
      '/busy-for-an-hour': _response(429, b'later', headers={'Retry-After': '3600'}),
      '/charset/header-latin-body-utf8': _response(
        200, utf8_page.encode('utf-8'), 'text/html; charset=ISO-8859-1'
      ),
      '/charset/header-utf8-body-latin': _response(
        200, latin_page.encode('iso-8859-1'), 'text/html; charset=utf-8'
      ),
      '/feeds/conditional': _conditional_feed,
      '/feeds/gzip': _response(200, gzipped, 'application/rss+xml', {'Content-Encoding': 'gzip'}),
      '/robots.txt': _response(200, b'User-agent: *\nDisallow: /members/\n', 'text/plain'),
      '/articles/ferry': _response(200, _page('Ferry terminal opens', 'ferry')),
      '/articles/broken': _response(500, b'server error'),
      '/members/pier': _response(200, _page('Pier', 'pier')),
      '/articles/report.pdf': _response(200, b'%PDF-1.4', 'application/pdf'),
    }
  )
  return http_server


@pytest.fixture
def fetcher():
  f = Fetcher(FETCH_CONFIG, allow_private_hosts=True)
  yield f
  f.close()


def _error(fetcher, url, **kwargs) -> FetchError:
  with pytest.raises(FetchError) as info:
    fetcher.fetch(url, **kwargs)
  return info.value


# --- Private addresses (no traffic: literal IPs only) -----------------------


def test_private_and_special_addresses_are_refused():
  assert blocked_address_reason('127.0.0.1') == 'loopback'
  assert blocked_address_reason('::1') == 'loopback'
  assert blocked_address_reason('::ffff:127.0.0.1') == 'loopback'
  assert blocked_address_reason('10.20.30.40') == 'private'
  assert blocked_address_reason('192.168.1.1') == 'private'
  assert blocked_address_reason('169.254.169.254') == 'link-local'
  assert blocked_address_reason('224.0.0.1') == 'multicast'
  assert blocked_address_reason('0.0.0.0') == 'unspecified'
  assert blocked_address_reason('100.64.0.1') == 'not globally routable'
  assert blocked_address_reason('93.184.216.34') is None
  assert blocked_address_reason('2606:2800:220:1::1') is None


def test_host_check_resolves_before_deciding():
  # Literal addresses resolve without a DNS query or a connection.
  with pytest.raises(
    FetchError,
    match=r'^blocked_host: 169\.254\.169\.254 '
    r'resolves to 169\.254\.169\.254 \(link-local\)',
  ):
    check_host('http://169.254.169.254/latest/meta-data/')
  with pytest.raises(FetchError, match='^blocked_host: .*loopback'):
    check_host('http://[::1]:8080/feed')
  check_host('https://93.184.216.34/news')  # public: no error


def test_loopback_server_is_refused_without_allow_private_hosts(server):
  refusing = Fetcher(FETCH_CONFIG)
  error = _error(refusing, server.url('/flaky'))
  assert error.reason == 'blocked_host'
  assert str(error).startswith('blocked_host: 127.0.0.1 resolves to 127.0.0.1 (loopback)')
  assert server.requests == []  # refused before connecting


def test_connection_reaching_a_private_address_is_refused(server):
  # What DNS rebinding exploits: the name passed the check, then resolves to
  # a private address when connecting. The connection itself is checked.
  session = requests.Session()
  session.mount('http://', PublicOnlyAdapter())
  with pytest.raises(FetchError, match='^blocked_host: 127.0.0.1 resolves to 127.0.0.1 .loopback.'):
    session.get(server.url('/flaky'), timeout=1)
  session.close()
  assert server.requests == []  # connected, but not a byte of request sent


# --- Retries, timeouts, redirects, size --------------------------------------


def test_503_then_200_is_retried_and_succeeds(server, fetcher):
  result = fetcher.fetch(server.url('/flaky'))
  assert result.status == 200 and b'Ferry terminal opens' in result.body
  assert result.attempts == 2
  assert server.count('/flaky') == 2


def test_500_fails_after_the_retries(server, fetcher):
  error = _error(fetcher, server.url('/broken'))
  assert str(error).startswith('http_500: ')
  assert error.attempts == RETRIES + 1
  assert server.count('/broken') == RETRIES + 1


def test_retry_after_longer_than_max_backoff_gives_up_at_once(server, fetcher):
  error = _error(fetcher, server.url('/busy-for-an-hour'))
  assert error.reason == 'http_429'
  assert 'asks to retry after 3600 s' in str(error)
  assert server.count('/busy-for-an-hour') == 1


def test_response_slower_than_the_read_timeout_times_out(server, fetcher):
  error = _error(fetcher, server.url('/slow'))
  assert str(error).startswith('timeout: ')
  assert server.count('/slow') == RETRIES + 1


def test_redirect_loop_and_too_many_redirects(server, fetcher):
  error = _error(fetcher, server.url('/loop/a'))
  assert str(error).startswith('redirect_loop: ')
  assert server.count('/loop/a') == 1 and server.count('/loop/b') == 1
  error = _error(fetcher, server.url('/chain/1'))
  assert str(error).startswith('too_many_redirects: more than 3')
  assert server.count('/chain/5') == 0


def test_every_redirect_hop_is_checked(server, fetcher):
  error = _error(fetcher, server.url('/to-file'))
  assert str(error) == 'unsupported_scheme: file:///etc/passwd'


def test_60mb_body_is_refused_without_reading_it_all(server, fetcher):
  error = _error(fetcher, server.url('/huge'))
  assert str(error).startswith('too_large: ')
  assert 'over the %d byte limit' % MAX_BYTES in str(error)
  deadline = time.monotonic() + 10
  while not server.huge_sent and time.monotonic() < deadline:
    time.sleep(0.05)
  # The server could push only what fit in the socket buffers before the
  # client hung up: a small part of the 60 MB.
  assert server.huge_sent and server.huge_sent[0] < HUGE_BYTES // 4
  assert server.count('/huge') == 1  # too large is not retried


def test_gzip_encoded_feed_is_decoded(server, fetcher):
  result = fetcher.fetch(server.url('/feeds/gzip'))
  assert result.body.startswith(b'<?xml')
  assert b'harbour.example/gz' in result.body


def test_requests_to_one_host_are_bounded(server):
  # Four threads of one worker, one host allowing 1 request at a time.
  polite = Fetcher(dict(FETCH_CONFIG, per_host_concurrency=1), allow_private_hosts=True)
  threads = [threading.Thread(target=polite.fetch, args=(server.url('/busy'),)) for _ in range(4)]
  for thread in threads:
    thread.start()
  for thread in threads:
    thread.join()
  polite.close()
  assert server.count('/busy') == 4 and server.most_in_flight == 1


# --- Charsets ----------------------------------------------------------------


def test_mislabelled_charset_is_read_right_both_ways(server, fetcher):
  for path in ('/charset/header-latin-body-utf8', '/charset/header-utf8-body-latin'):
    result = fetcher.fetch(server.url(path))
    assert 'Café crème à la gare' in result.text, path


def test_charset_precedence():
  utf8 = 'Café'.encode()
  latin = 'Café'.encode('iso-8859-1')
  # The byte-order mark first.
  assert detect_charset(b'\xef\xbb\xbf' + utf8, 'text/html; charset=koi8-r') == 'utf-8'
  assert detect_charset(utf8, 'text/html; charset=ISO-8859-1') == 'utf-8'
  assert detect_charset(latin, 'text/html; charset=utf-8') == 'cp1252'
  assert detect_charset(latin, 'text/html; charset=iso-8859-15') == 'iso8859-15'
  xml = b'<?xml version="1.0" encoding="ISO-8859-1"?><rss>' + latin
  assert detect_charset(xml, 'application/xml') == 'iso8859-1'
  meta = b'<html><head><meta charset="windows-1251"></head>\xcf\xf0\xe8'
  assert detect_charset(meta, None) == 'cp1251'
  assert detect_charset(b'plain ascii', None) == 'cp1252'


def test_retry_delay_honours_retry_after():
  assert retry_delay(0, 1.0, 60) == 1.0
  assert retry_delay(3, 1.0, 60) == 8.0
  assert retry_delay(10, 1.0, 60) == 60  # capped
  assert retry_delay(0, 1.0, 60, '30') == 30.0
  assert retry_delay(0, 1.0, 60, '3600') is None  # too long: give up
  now = datetime.datetime(2022, 4, 4, 9, 0, 0, tzinfo=datetime.timezone.utc)
  assert retry_delay(0, 1.0, 60, 'Mon, 04 Apr 2022 09:00:20 GMT', now) == 20.0
  assert retry_delay(0, 1.0, 60, 'soon') == 1.0  # unreadable: backoff


# --- Conditional GET, robots -------------------------------------------------


def test_conditional_request_gets_304(server, fetcher):
  first = fetcher.fetch(server.url('/feeds/conditional'))
  assert first.status == 200 and first.etag == ETAG
  validators = validators_of(first, None)
  assert validators == {'etag': ETAG, 'last_modified': LAST_MODIFIED}
  second = fetcher.fetch(server.url('/feeds/conditional'), validators)
  assert second.not_modified and second.body == b''
  sent = server.requests[-1][1]
  assert sent['If-None-Match'] == ETAG
  assert sent['If-Modified-Since'] == LAST_MODIFIED
  assert validators_of(second, validators) == validators


def test_state_file_round_trip_and_corrupt_state(tmp_path):
  path = str(tmp_path / 'state' / 'fetch_state.json')
  assert load_state(path) == {}
  save_state(path, [('https://a.example/rss', {'etag': '"1"'})])
  save_state(path, [('https://b.example/rss', {'etag': '"2"'})])
  assert load_state(path) == {
    'https://a.example/rss': {'etag': '"1"'},
    'https://b.example/rss': {'etag': '"2"'},
  }
  with open(path, 'w') as f:
    f.write('{not json')
  assert load_state(path) == {}  # refetch everything, lose nothing


def test_robots_txt_is_honoured_for_articles(server, fetcher):
  result = fetcher.fetch_article(server.url('/articles/ferry'))
  assert b'Ferry terminal opens' in result.body
  with pytest.raises(FetchError, match='^robots_disallowed: '):
    fetcher.fetch_article(server.url('/members/pier'))
  assert server.count('/members/pier') == 0
  with pytest.raises(FetchError, match='^not_html: .* is application/pdf'):
    fetcher.fetch_article(server.url('/articles/report.pdf'))
  assert server.count('/robots.txt') == 1  # cached per site


# --- Beam stages and the whole pipeline --------------------------------------


def test_304_feed_gives_no_entries_and_is_counted(server, tmp_path):
  state_path = str(tmp_path / 'fetch_state.json')
  url = server.url('/feeds/conditional')
  save_state(state_path, [(url, {'etag': ETAG})])
  options = FetchOptions(FETCH_CONFIG, allow_private_hosts=True, state_path=state_path)
  pipeline = TestPipeline()
  out = (
    pipeline
    | beam.Create([url])
    | beam.ParDo(ReadFeedDocuments({'max_record_bytes': MAX_BYTES}, options)).with_outputs(
      DEAD_LETTER, FETCH_STATE, main='pages'
    )
  )
  assert_that(out.pages, equal_to([]), label='NoEntries')
  assert_that(out[DEAD_LETTER], equal_to([]), label='NoDeadLetters')
  assert_that(
    out[FETCH_STATE],
    equal_to([(url, {'etag': ETAG, 'last_modified': LAST_MODIFIED})]),
    label='State',
  )
  result = pipeline.run()
  result.wait_until_finish()
  counters = result.metrics().query(MetricsFilter().with_name('feeds_not_modified'))['counters']
  assert [c.committed for c in counters] == [1]


def _config_file(tmp_path, **overrides):
  path = tmp_path / 'fetch.yaml'
  path.write_text(json.dumps({'fetch': dict(FETCH_CONFIG, **overrides)}))
  return str(path)


def _ingest(server, tmp_path, output, feeds, *extra):
  args = ['--config', _config_file(tmp_path), '--output', str(output), '--min-words', '5']
  for path in feeds:
    args += ['--feeds', server.url(path)]
  summary = ingest.run(args + list(extra))
  return summary, read_outputs(output, summary=False)


def test_fetch_articles_end_to_end(server, tmp_path):
  server.routes['/feeds/harbour'] = _response(
    200,
    _rss(
      [
        ('Ferry terminal opens', server.url('/articles/ferry'), None),
        ('Broken page, summary kept', server.url('/articles/broken'), FISH),
        ('Members only, summary kept', server.url('/members/pier'), LIGHTHOUSE),
        ('No page and no text', server.url('/articles/gone'), None),
      ]
    ),
    'application/rss+xml',
  )
  summary, out = _ingest(
    server,
    tmp_path,
    tmp_path / 'out',
    ['/feeds/harbour', '/broken', '/slow', '/loop/a', '/huge'],
    '--fetch-articles',
    '--allow-private-hosts',
  )
  articles = {a['title']: a for a in out['articles']}
  dead = out['dead_letter']
  # The ledger: 4 entries and 4 unreadable feeds, each in exactly one output.
  assert sum(summary['outputs'].values()) == 8
  assert len(articles) == 3 and len(dead) == 5
  assert out['duplicates'] == [] and out['rejected'] == []
  ferry = articles['Ferry terminal opens']
  assert 'ferry report number 5' in ferry['body']  # the page's main text
  assert 'Contact us' not in ferry['body'] and ferry['fetch_error'] is None
  broken = articles['Broken page, summary kept']
  assert broken['fetch_error'].startswith('http_500: ')
  assert 'fish market' in broken['body']
  members = articles['Members only, summary kept']
  assert members['fetch_error'].startswith('robots_disallowed: ')
  assert 'lighthouse' in members['body']
  errors = sorted((d['stage'], d['error'].split(':')[0]) for d in dead)
  assert errors == [
    ('fetch_article', 'http_404'),
    ('read_feed', 'http_500'),
    ('read_feed', 'redirect_loop'),
    ('read_feed', 'timeout'),
    ('read_feed', 'too_large'),
  ]
  gone = [d for d in dead if d['stage'] == 'fetch_article'][0]
  assert gone['url'] == server.url('/articles/gone')
  assert gone['feed_url'] == server.url('/feeds/harbour') and gone['raw']
  assert server.count('/broken') == RETRIES + 1
  assert server.count('/articles/broken') == RETRIES + 1
  assert server.count('/members/pier') == 0


@pytest.mark.parametrize('where', ['local', 'gs'])
def test_unchanged_feed_is_not_republished_on_the_next_run(server, tmp_path, request, where):
  if where == 'gs':
    state = 'gs://%s/polls/fetch_state.json' % request.getfixturevalue('gcs_bucket').name
  else:
    state = str(tmp_path / 'state' / 'fetch_state.json')
  first, out = _ingest(
    server,
    tmp_path,
    tmp_path / 'one',
    ['/feeds/conditional'],
    '--allow-private-hosts',
    '--fetch-state',
    state,
  )
  assert first['outputs']['articles'] == 2
  assert load_state(state) == {
    server.url('/feeds/conditional'): {'etag': ETAG, 'last_modified': LAST_MODIFIED}
  }
  second, out = _ingest(
    server,
    tmp_path,
    tmp_path / 'two',
    ['/feeds/conditional'],
    '--allow-private-hosts',
    '--fetch-state',
    state,
  )
  assert second['total'] == 0  # 304: nothing republished, nothing dead
  assert server.requests[-1][1]['If-None-Match'] == ETAG
  assert server.requests[-1][1]['If-Modified-Since'] == LAST_MODIFIED


def test_private_hosts_are_refused_by_default_end_to_end(server, tmp_path):
  # The only feed refused: nothing readable, the run fails saying why.
  with pytest.raises(SystemExit, match=r'read_feed: blocked_host \(1\)'):
    _ingest(server, tmp_path, tmp_path / 'out', ['/feeds/conditional'])
  assert not os.path.exists(tmp_path / 'out' / 'summary.json')
  assert server.requests == []
  # The default state file sits under the output, untouched by a refusal.
  assert not os.path.exists(tmp_path / 'out' / '_state' / 'fetch_state.json')


def test_bad_fetch_settings_are_clear_errors(tmp_path):
  from configs.loading import ConfigError, load_config

  cases = {
    'read_timeout: 0': 'fetch.read_timeout must be at least 0.01',
    'retries: 1.5': 'fetch.retries must be a whole number',
    'respect_robots: "yes"': 'fetch.respect_robots must be true or false',
    'user_agent: ""': 'fetch.user_agent must be a non-empty string',
  }
  for setting, message in cases.items():
    path = tmp_path / 'bad.yaml'
    path.write_text('fetch:\n  %s\n' % setting)
    with pytest.raises(ConfigError, match=message):
      load_config(str(path))
