"""Feeds: RSS/Atom documents, fetched or read from files, as page records.

``parse_feed_document`` is plain Python (feedparser, with its entity
expansion bounded); ``ReadFeedDocuments`` is the Beam step, fetching a
feed URL conditionally (``transforms/fetch/state.py``). An entry ends as a
raw page record or a dead letter.
"""

import json
import re
import time
from typing import Any, Dict, Iterable, List, Optional, Tuple

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from transforms import schema
from transforms.dead_letters import truncated
from transforms.fetch.client import FetchOptions
from transforms.fetch.errors import FetchError
from transforms.fetch.redact import redact_url
from transforms.fetch.state import FETCH_STATE, ConditionalFetchingDoFn, validators_of
from transforms.io.timestamps import names_time_of_day, publication_time
from transforms.text.urls import is_url

STAGE_READ_FEED = 'read_feed'
FEED_TYPES = (
  'application/rss+xml, application/atom+xml, application/rdf+xml, '
  'application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8'
)


def _entry_content_html(entry) -> Optional[str]:
  contents = entry.get('content') or []
  # The longest content block is the article; others are often summaries.
  best = max((c.get('value') or '' for c in contents), key=len, default='')
  return best or None


def feed_entry_record(
  entry, feed_url: str, warnings: List[str], require_text: bool = True
) -> Tuple[str, Dict[str, Any]]:
  """One feedparser entry -> ('page', record) or ('dead_letter', ...).

  An entry without content or summary is a dead letter, unless
  ``require_text`` is off (its linked page will be fetched for the text).
  """
  link = entry.get('link') or ''
  entry_id = entry.get('id') or ''
  raw = json.dumps(
    {k: entry.get(k) for k in ('id', 'link', 'title', 'summary', 'published', 'updated', 'author')},
    ensure_ascii=False,
    default=str,
  )
  url = link or (entry_id if is_url(entry_id) else '')
  content_html = _entry_content_html(entry)
  summary = entry.get('summary') or None
  if not url:
    return schema.DEAD_LETTER, schema.dead_letter(
      STAGE_READ_FEED, 'feed entry has no link', raw, feed_url=feed_url
    )
  if not is_url(url):
    return schema.DEAD_LETTER, schema.dead_letter(
      STAGE_READ_FEED,
      'feed entry link is not an http(s) URL: %r' % url[:100],
      raw,
      feed_url=feed_url,
    )
  if require_text and not content_html and not summary:
    return schema.DEAD_LETTER, schema.dead_letter(
      STAGE_READ_FEED, 'feed entry has no content or summary', raw, url=url, feed_url=feed_url
    )
  authors = [
    a.get('name') for a in entry.get('authors') or [] if isinstance(a, dict) and a.get('name')
  ]
  if not authors and entry.get('author'):
    authors = [entry.get('author')]
  # The entry's date as written tells whether it gave a time of day.
  if entry.get('published_parsed'):
    published, written = entry['published_parsed'], entry.get('published')
  else:
    published, written = entry.get('updated_parsed'), entry.get('updated')
  return 'page', {
    'url': url,
    'feed_url': feed_url,
    'title': entry.get('title') or None,
    'summary': summary,
    'authors': authors,
    'published_at': publication_time(published, day_only=not names_time_of_day(written)),
    'fetched_at': None,
    'source': 'feed',
    'html': None,
    'content_html': content_html or summary,
    'text': None,
    'warnings': list(warnings),
    'raw': raw,
  }


# feedparser drops the DTD's entity declarations that refer to other
# entities (the "billion laughs"), but keeps any whose value is plain text and
# expands those in its loose parser without limit once expat refuses them: a
# 40 KB feed declaring a 10 KB entity used 10,000 times became a 100 MB
# summary. Only single character references (<!ENTITY nbsp "&#160;">) are
# kept; other entity references stay as literal text in a flagged record.
_SAFE_FEED_ENTITY = re.compile(rb'\s+(\w+)\s+"(&#\w+;)"')


def parse_feed_document(
  data: bytes,
  feed_url: str,
  fetched_at: Optional[str] = None,
  encoding: Optional[str] = None,
  base_url: Optional[str] = None,
  require_text: bool = True,
) -> Iterable[Tuple[str, Dict[str, Any]]]:
  """A feed document -> its entries as page records, or one dead letter if
  no entry can be read. Recovered ill-formed feeds give flagged records.

  ``encoding`` (the charset detected when fetching) overrides the document's
  own declaration; ``base_url`` (where it was fetched from, after
  redirects) resolves relative links.
  """
  for kind, record in _read_feed_document(
    data, feed_url, fetched_at, encoding, base_url, require_text
  ):
    yield kind, schema.without_lone_surrogates(record)


def _read_feed_document(
  data: bytes,
  feed_url: str,
  fetched_at: Optional[str],
  encoding: Optional[str],
  base_url: Optional[str],
  require_text: bool,
) -> Iterable[Tuple[str, Dict[str, Any]]]:
  import feedparser

  feedparser.sanitizer.RE_SAFE_ENTITY_PATTERN = _SAFE_FEED_ENTITY
  headers = {}
  if encoding:
    headers['content-type'] = 'application/xml; charset=%s' % encoding
  if base_url:
    headers['content-location'] = base_url
  try:
    parsed = feedparser.parse(
      data, sanitize_html=True, resolve_relative_uris=True, response_headers=headers
    )
  except Exception as e:  # feedparser should not raise; guard all the same.
    yield (
      schema.DEAD_LETTER,
      schema.dead_letter(
        STAGE_READ_FEED,
        'feed could not be parsed: %s' % e,
        truncated(data[:100000].decode('utf-8', 'replace')),
        url=feed_url,
        feed_url=feed_url,
      ),
    )
    return
  warnings = []
  if parsed.get('bozo'):
    warnings.append('feed not well-formed: %s' % str(parsed.get('bozo_exception'))[:200])
  entries = parsed.get('entries') or []
  version = parsed.get('version') or ''
  if not entries:
    if parsed.get('bozo') or not version:
      error = warnings[0] if warnings else 'not a feed (no RSS/Atom found)'
    else:
      error = 'feed has no entries'
    yield (
      schema.DEAD_LETTER,
      schema.dead_letter(
        STAGE_READ_FEED,
        error,
        truncated(data[:100000].decode('utf-8', 'replace')),
        url=feed_url,
        feed_url=feed_url,
      ),
    )
    return
  for entry in entries:
    kind, record = feed_entry_record(entry, feed_url, warnings, require_text)
    if kind == 'page':
      record['fetched_at'] = fetched_at
    yield kind, record


class ReadFeedDocuments(ConditionalFetchingDoFn):
  """Reads one feed (a URL or a file) and emits its entries.

  A URL is fetched by a ``Fetcher`` (one per worker), conditionally when the
  state holds its validators: a 304 means nothing new, so no entries. The
  validators to keep are emitted on the ``fetch_state`` output.
  """

  def __init__(self, read_config: Dict[str, Any], fetch: FetchOptions):
    super().__init__(fetch)
    self._max_bytes = read_config['max_record_bytes']
    self._feeds = Metrics.counter('sources', 'feeds_read')
    self._entries = Metrics.counter('sources', 'feed_entries')
    self._failed = Metrics.counter('sources', 'feeds_failed')
    self._not_modified = Metrics.counter('fetch', 'feeds_not_modified')

  def _read_file(self, path: str) -> bytes:
    with FileSystems.open(path, compression_type=CompressionTypes.AUTO) as f:
      data = f.read(self._max_bytes + 1)
    if len(data) > self._max_bytes:
      raise ValueError('feed is over the %d byte limit' % self._max_bytes)
    return data

  def _dead(self, spec: str, error: str):
    self._failed.inc()
    return beam.pvalue.TaggedOutput(
      schema.DEAD_LETTER,
      schema.dead_letter(STAGE_READ_FEED, error, redact_url(spec), url=spec, feed_url=spec),
    )

  def process(self, spec: str):
    fetched_at, encoding, base_url = None, None, None
    if is_url(spec):
      previous = self._state.get(spec)
      try:
        result = self._fetcher.fetch(spec, previous, accept=FEED_TYPES)
      except FetchError as e:
        self._retries.inc(e.attempts - 1)
        yield self._dead(spec, str(e))
        return
      self._retries.inc(result.attempts - 1)
      yield beam.pvalue.TaggedOutput(FETCH_STATE, (spec, validators_of(result, previous)))
      if result.not_modified:
        self._not_modified.inc()
        return
      if not result.ok:
        yield self._dead(spec, 'http_%d: %s' % (result.status, spec))
        return
      data, encoding, base_url = result.body, result.encoding, result.url
      fetched_at = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())
    else:
      try:
        data = self._read_file(spec)
      except Exception as e:
        yield self._dead(spec, 'feed could not be read: %s' % e)
        return
    self._feeds.inc()
    # The feed is fetched with its credentials; records show it without.
    for kind, record in parse_feed_document(
      data,
      redact_url(spec),
      fetched_at,
      encoding,
      base_url,
      require_text=not self._fetch.fetch_articles,
    ):
      if kind == schema.DEAD_LETTER:
        self._failed.inc()
        yield beam.pvalue.TaggedOutput(schema.DEAD_LETTER, record)
      else:
        self._entries.inc()
        yield record
