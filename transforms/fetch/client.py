"""Fetching feeds and article pages over HTTP, the way a crawler must.

``Fetcher`` is plain Python (no Beam): one ``requests`` session, connect and
read timeouts, retries with exponential backoff on connection errors, 429 and
5xx (honouring ``Retry-After``), redirects followed by hand so that every hop
is checked, a size cap enforced while streaming, gzip, charset detection
(``charset.py``), refusal of private addresses after DNS resolution
(``guard.py``), robots.txt, per-host politeness and conditional GET (its
state: ``state.py``). The Beam stages (``transforms/io/feeds.py``,
``transforms/fetch/pages.py``) are ``FetchingDoFn``s: one ``Fetcher`` per
worker, created in ``DoFn.setup()``.

A failure raises ``FetchError`` whose ``str`` starts with its reason
(``blocked_host: ...``, ``too_large: ...``, ``timeout: ...``, ``http_500:
...``), which is what dead letters and ``fetch_error`` say.
"""

import collections
import contextlib
import dataclasses
import datetime
import email.utils
import logging
import threading
import time
import urllib.robotparser
from typing import Any, Dict, Iterator, Optional, Tuple
from urllib.parse import urljoin, urlsplit

import apache_beam as beam
import requests
from apache_beam.metrics import Metrics

from transforms.fetch.charset import detect_charset
from transforms.fetch.errors import FetchError
from transforms.fetch.guard import PublicOnlyAdapter, check_host

_REDIRECT_STATUSES = (301, 302, 303, 307, 308)
# Media types of an article page that extraction can read.
_PAGE_TYPES = ('text/html', 'application/xhtml+xml', 'text/plain', 'application/xml', 'text/xml')
# Reasons that hold for every URL of a site, robots.txt included.
_UNFETCHABLE = ('blocked_host', 'dns_error', 'unsupported_scheme', 'bad_url')
_CHUNK_BYTES = 64 * 1024


@dataclasses.dataclass
class FetchResult:
  """A fetched document: 200 with a body, or 304 (``not_modified``)."""

  url: str  # the final URL, after redirects
  status: int
  body: bytes
  encoding: Optional[str]  # the detected charset; None for a 304
  content_type: str  # the media type, without parameters
  etag: Optional[str]
  last_modified: Optional[str]
  attempts: int  # requests sent, retries and redirects included

  @property
  def not_modified(self) -> bool:
    return self.status == 304

  @property
  def ok(self) -> bool:
    return 200 <= self.status < 300

  @property
  def text(self) -> str:
    return self.body.decode(self.encoding or 'utf-8', 'replace')


@dataclasses.dataclass
class FetchOptions:
  """What the pipeline's fetching stages need: the config's ``fetch``
  section, the command-line switches and where the conditional GET state
  lives (None: no state kept)."""

  config: Dict[str, Any]
  allow_private_hosts: bool = False
  fetch_articles: bool = False
  state_path: Optional[str] = None


# --- Retries ---------------------------------------------------------------


def retry_delay(
  attempt: int,
  backoff: float,
  max_backoff: float,
  retry_after: Optional[str] = None,
  now: Optional[datetime.datetime] = None,
) -> Optional[float]:
  """Seconds to wait before try number ``attempt + 1`` (attempt counts from
  0): ``backoff * 2**attempt`` capped at ``max_backoff``, or longer if the
  server's Retry-After (seconds or an HTTP date) asks for it. None when the
  server asks for more than ``max_backoff``: waiting that long would stall
  the worker, so the fetch gives up."""
  delay = min(backoff * (2**attempt), max_backoff)
  if not retry_after:
    return delay
  retry_after = retry_after.strip()
  if retry_after.isdigit():
    asked = float(retry_after)
  else:
    try:
      when = email.utils.parsedate_to_datetime(retry_after)
    except (TypeError, ValueError):
      return delay  # unreadable: plain backoff
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if when.tzinfo is None:
      when = when.replace(tzinfo=datetime.timezone.utc)
    asked = max(0.0, (when - now).total_seconds())
  if asked > max_backoff:
    return None
  return max(delay, asked)


# --- Politeness ------------------------------------------------------------


class _HostGate:
  """At most ``concurrency`` requests to one host at a time, and starts at
  least ``delay`` seconds apart."""

  def __init__(self, concurrency: int, delay: float):
    self._slots = threading.BoundedSemaphore(concurrency)
    self._delay = delay
    self._lock = threading.Lock()
    self._next_start = 0.0

  @contextlib.contextmanager
  def slot(self) -> Iterator[None]:
    with self._slots:
      with self._lock:
        now = time.monotonic()
        start = max(now, self._next_start)
        self._next_start = start + self._delay
      if start > now:
        time.sleep(start - now)
      yield


# Shared by every Fetcher in a worker process: Beam runs several DoFn
# instances (threads) per worker, and politeness is owed per host.
_GATES: Dict[Tuple[str, int, float], _HostGate] = {}
_GATES_LOCK = threading.Lock()


def host_gate(host: str, concurrency: int, delay: float) -> _HostGate:
  key = (host, concurrency, delay)
  with _GATES_LOCK:
    if key not in _GATES:
      _GATES[key] = _HostGate(concurrency, delay)
    return _GATES[key]


class Fetcher:
  """Fetches documents over HTTP(S) with one session; see the module doc.

  ``config`` is the config's ``fetch`` section.
  """

  def __init__(self, config: Dict[str, Any], allow_private_hosts: bool = False):
    self._config = config
    self._allow_private = allow_private_hosts
    self._timeout = (config['connect_timeout'], config['read_timeout'])
    self._session = requests.Session()
    if not allow_private_hosts:
      for prefix in ('http://', 'https://'):
        self._session.mount(prefix, PublicOnlyAdapter())
    self._session.headers['User-Agent'] = config['user_agent']
    self._session.headers['Accept-Encoding'] = 'gzip, deflate'
    # Recently used sites' rules, bounded: a long crawl meets many sites.
    self._robots = collections.OrderedDict()

  def close(self) -> None:
    self._session.close()

  def fetch(
    self, url: str, validators: Optional[Dict[str, str]] = None, accept: Optional[str] = None
  ) -> FetchResult:
    """GETs ``url``, following redirects, checking each hop. Sends the
    validators (``etag``, ``last_modified``) as a conditional request."""
    headers = {}
    if validators and validators.get('etag'):
      headers['If-None-Match'] = validators['etag']
    if validators and validators.get('last_modified'):
      headers['If-Modified-Since'] = validators['last_modified']
    if accept:
      headers['Accept'] = accept
    max_redirects = self._config['max_redirects']
    seen, attempts, current = [url], 0, url
    while True:
      self._check_url(current)
      status, response_headers, body, tries = self._get(current, headers)
      attempts += tries
      if status not in _REDIRECT_STATUSES:
        return FetchResult(
          url=current,
          status=status,
          body=body,
          encoding=None
          if status == 304
          else detect_charset(body, response_headers.get('Content-Type')),
          content_type=response_headers.get('Content-Type', '').split(';')[0].strip().lower(),
          etag=response_headers.get('ETag'),
          last_modified=response_headers.get('Last-Modified'),
          attempts=attempts,
        )
      location = response_headers.get('Location')
      if not location:
        raise FetchError(
          'http_%d' % status, 'redirect without Location from %s' % current, attempts
        )
      target = urljoin(current, location.strip())
      if target in seen:
        raise FetchError('redirect_loop', ' -> '.join(seen + [target]), attempts)
      if len(seen) > max_redirects:
        raise FetchError(
          'too_many_redirects', 'more than %d, from %s' % (max_redirects, url), attempts
        )
      seen.append(target)
      current = target

  def fetch_article(self, url: str, validators: Optional[Dict[str, str]] = None) -> FetchResult:
    """Fetches an article page, after robots.txt allows it (if configured);
    conditionally with `validators` (a 304 is returned, unchanged since)."""
    if self._config['respect_robots'] and not self._robots_allow(url):
      raise FetchError(
        'robots_disallowed', 'robots.txt of %s disallows %s' % (urlsplit(url).netloc, url)
      )
    result = self.fetch(url, validators, accept='text/html,application/xhtml+xml')
    if result.not_modified:
      return result
    if not result.ok:
      raise FetchError('http_%d' % result.status, url, result.attempts)
    if result.content_type and result.content_type not in _PAGE_TYPES:
      raise FetchError('not_html', '%s is %s' % (url, result.content_type), result.attempts)
    return result

  def _check_url(self, url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ('http', 'https'):
      raise FetchError('unsupported_scheme', url)
    if not self._allow_private:
      check_host(url)

  def _robots_allow(self, url: str) -> bool:
    parts = urlsplit(url)
    site = '%s://%s' % (parts.scheme.lower(), parts.netloc.lower())
    parser = self._robots.get(site)
    if parser is not None:
      self._robots.move_to_end(site)
    else:
      parser = urllib.robotparser.RobotFileParser(site + '/robots.txt')
      # RFC 9309: a missing robots.txt (4xx) allows everything; one that
      # cannot be reached (5xx, network) disallows everything for now.
      try:
        robots = self.fetch(site + '/robots.txt')
      except FetchError as e:
        if e.reason in _UNFETCHABLE:
          raise  # the page itself cannot be fetched: say why
        parser.allow_all = e.reason.startswith('http_4')
        parser.disallow_all = not parser.allow_all
        if parser.disallow_all:
          logging.info('robots.txt of %s unreachable: %s', site, e)
      else:
        parser.parse(robots.text.splitlines())
      self._robots[site] = parser
      if len(self._robots) > self._config['robots_cache_sites']:
        self._robots.popitem(last=False)
    return parser.can_fetch(self._config['user_agent'], url)

  def _get(self, url: str, headers: Dict[str, str]) -> Tuple[int, Dict[str, str], bytes, int]:
    """One hop, retried: (status, headers, body, requests sent). Retries
    connection errors, timeouts, 429 and 5xx; other statuses >= 400 fail at
    once."""
    config = self._config
    gate = host_gate(
      urlsplit(url).netloc.lower(), config['per_host_concurrency'], config['per_host_delay']
    )
    for attempt in range(config['retries'] + 1):
      retry_after = None
      with gate.slot():
        try:
          response = self._session.get(
            url, headers=headers, stream=True, timeout=self._timeout, allow_redirects=False
          )
        except requests.Timeout as e:
          error = FetchError('timeout', '%s: %s' % (url, e), attempt + 1)
        except requests.RequestException as e:
          error = FetchError('connection_error', '%s: %s' % (url, e), attempt + 1)
        else:
          with response:
            status = response.status_code
            if status == 429 or status >= 500:
              error = FetchError(
                'http_%d' % status, '%s after %d tries' % (url, attempt + 1), attempt + 1
              )
              retry_after = response.headers.get('Retry-After')
            elif status >= 400:
              raise FetchError('http_%d' % status, url, attempt + 1)
            elif status in _REDIRECT_STATUSES or status == 304:
              return status, response.headers, b'', attempt + 1
            else:
              try:
                body = self._read_body(url, response, attempt + 1)
              except FetchError as e:
                if e.reason == 'too_large':
                  raise
                error = e  # the connection broke or stalled mid-body: retry
              else:
                return status, response.headers, body, attempt + 1
      if attempt < config['retries']:
        delay = retry_delay(attempt, config['backoff'], config['max_backoff'], retry_after)
        if delay is None:
          raise FetchError(
            error.reason,
            '%s asks to retry after %s s, longer than fetch.max_backoff' % (url, retry_after),
            attempt + 1,
          )
        time.sleep(delay)
    raise error

  def _read_body(self, url: str, response, attempts: int) -> bytes:
    """The decoded (gunzipped) body, read in chunks and abandoned as soon
    as it passes the size cap or the total time budget."""
    max_bytes = self._config['max_bytes']
    declared = response.headers.get('Content-Length', '')
    if declared.isdigit() and int(declared) > max_bytes:
      raise FetchError(
        'too_large',
        '%s declares %s bytes, over the %d byte limit' % (url, declared, max_bytes),
        attempts,
      )
    deadline = time.monotonic() + self._config['total_timeout']
    chunks, size = [], 0
    try:
      for chunk in response.iter_content(_CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
          raise FetchError('too_large', '%s is over the %d byte limit' % (url, max_bytes), attempts)
        if time.monotonic() > deadline:
          raise FetchError(
            'timeout', '%s took over %s s to send' % (url, self._config['total_timeout']), attempts
          )
        chunks.append(chunk)
    except requests.RequestException as e:
      reason = 'timeout' if 'timed out' in str(e) else 'connection_error'
      raise FetchError(reason, '%s: %s' % (url, e), attempts) from e
    return b''.join(chunks)


class FetchingDoFn(beam.DoFn):
  """A DoFn with one ``Fetcher`` (one HTTP session) per worker."""

  def __init__(self, fetch: FetchOptions):
    self._fetch = fetch
    self._retries = Metrics.counter('fetch', 'retries')

  def setup(self):
    self._fetcher = Fetcher(self._fetch.config, self._fetch.allow_private_hosts)

  def teardown(self):
    self._fetcher.close()
