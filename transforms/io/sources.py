"""Reading inputs: RSS/Atom feeds and JSON Lines files of scraped pages.

Per-record logic (``parse_scraped_line``, ``parse_feed_document``) is plain
Python; ``ReadInputs`` wraps it in Beam. Globs are expanded inside DoFns, at
run time, so that building the job graph (e.g. a Dataflow dry run) never lists
a bucket. Every input ends as a raw page record or a dead letter.

A raw page record is a dict with the article fields known so far plus:
``html`` (a whole page), ``content_html`` (a feed entry's HTML content),
``text`` (plain text), and ``raw`` (the input as read, for replay); with
--fetch-articles, feed entries also carry ``fetch_error`` (None, or why
their page could not be fetched). HTTP itself is ``transforms/fetch/client.py``.
"""

import calendar
import datetime
import json
import logging
import re
import time
from typing import Any, Dict, Iterable, List, Optional, Tuple

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from transforms import schema
from transforms.fetch.client import (
  Fetcher,
  FetchError,
  FetchOptions,
  load_state,
  save_state,
  validators_of,
)
from transforms.fetch.redact import redact_url

DEAD_LETTER = 'dead_letter'
FETCH_STATE = 'fetch_state'
STAGE_READ_FEED = 'read_feed'
STAGE_READ_SCRAPED = 'read_scraped'
STAGE_FETCH_ARTICLE = 'fetch_article'
FEED_TYPES = (
  'application/rss+xml, application/atom+xml, application/rdf+xml, '
  'application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8'
)

# Scraped records: what a line may hold, and of what type.
_SCRAPED_STR_FIELDS = (
  'url',
  'html',
  'text',
  'title',
  'fetched_at',
  'source',
  'published_at',
  'summary',
)


def is_url(spec: str) -> bool:
  return spec.lower().startswith(('http://', 'https://'))


def iso_utc(value: Any) -> Optional[str]:
  """An ISO 8601 UTC timestamp from a struct_time, datetime or string."""
  if value is None or value == '':
    return None
  if isinstance(value, time.struct_time):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(calendar.timegm(value)))
  if isinstance(value, datetime.datetime):
    if value.tzinfo is not None:
      value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value.strftime('%Y-%m-%dT%H:%M:%SZ')
  if isinstance(value, str):
    text = value.strip()
    try:
      parsed = datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))
    except ValueError:
      return None
    if parsed.tzinfo is None:
      parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return iso_utc(parsed)
  return None


def _truncate(text: str, limit: int = 100000) -> str:
  return text if len(text) <= limit else text[:limit] + '…[truncated]'


def parse_scraped_line(line: bytes, max_bytes: int, origin: str = '') -> Tuple[str, Dict[str, Any]]:
  """One JSON Lines record of a scraped page -> ('page', record) or
  ('dead_letter', dead letter). Never raises."""
  kind, record = _read_scraped_line(line, max_bytes, origin)
  return kind, schema.without_lone_surrogates(record)


def _read_scraped_line(line: bytes, max_bytes: int, origin: str) -> Tuple[str, Dict[str, Any]]:
  if len(line) > max_bytes:
    return DEAD_LETTER, schema.dead_letter(
      STAGE_READ_SCRAPED,
      'record over the %d byte limit' % max_bytes,
      _truncate(line[:100000].decode('utf-8', 'backslashreplace')),
    )
  try:
    decoded = line.decode('utf-8')
  except UnicodeDecodeError as e:
    return DEAD_LETTER, schema.dead_letter(
      STAGE_READ_SCRAPED,
      'invalid UTF-8: byte %d of %s' % (e.start, origin),
      _truncate(line.decode('utf-8', 'backslashreplace')),
    )
  decoded = decoded.strip().lstrip('\ufeff')
  try:
    obj = json.loads(decoded)
  except (ValueError, RecursionError) as e:
    return DEAD_LETTER, schema.dead_letter(
      STAGE_READ_SCRAPED, 'invalid JSON: %s' % str(e)[:200], _truncate(decoded)
    )
  raw = decoded
  if not isinstance(obj, dict):
    return DEAD_LETTER, schema.dead_letter(
      STAGE_READ_SCRAPED, 'record is a JSON %s, not an object' % type(obj).__name__, _truncate(raw)
    )
  url = obj.get('url')
  for field in _SCRAPED_STR_FIELDS:
    value = obj.get(field)
    if value is not None and not isinstance(value, str):
      return DEAD_LETTER, schema.dead_letter(
        STAGE_READ_SCRAPED,
        'field %r must be a string, got %s' % (field, type(value).__name__),
        _truncate(raw),
        url=url if isinstance(url, str) else None,
      )
  if not url or not url.strip():
    return DEAD_LETTER, schema.dead_letter(
      STAGE_READ_SCRAPED, 'missing required field "url"', _truncate(raw)
    )
  if not is_url(url.strip()):
    # javascript:, data: and other schemes must not reach a record's links.
    return DEAD_LETTER, schema.dead_letter(
      STAGE_READ_SCRAPED, 'url is not an http(s) URL: %r' % url[:100], _truncate(raw)
    )
  if not (obj.get('html') or '').strip() and not (obj.get('text') or '').strip():
    return DEAD_LETTER, schema.dead_letter(
      STAGE_READ_SCRAPED, 'record has neither "html" nor "text"', _truncate(raw), url=url
    )
  authors = obj.get('authors') or []
  if isinstance(authors, str):
    authors = [authors]
  if not isinstance(authors, list):
    authors = []
  record = {
    'url': url.strip(),
    'feed_url': None,
    'title': obj.get('title'),
    'summary': obj.get('summary'),
    'authors': [a for a in authors if isinstance(a, str)],
    'published_at': iso_utc(obj.get('published_at')),
    'fetched_at': iso_utc(obj.get('fetched_at')),
    'source': obj.get('source'),
    'html': obj.get('html') or None,
    'text': obj.get('text') or None,
    'warnings': [],
    'raw': raw,
  }
  if obj.get('fetched_at') and record['fetched_at'] is None:
    record['warnings'].append('unparsed fetched_at: %r' % obj['fetched_at'][:64])
  return 'page', record


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
    return DEAD_LETTER, schema.dead_letter(
      STAGE_READ_FEED, 'feed entry has no link', raw, feed_url=feed_url
    )
  if not is_url(url):
    return DEAD_LETTER, schema.dead_letter(
      STAGE_READ_FEED,
      'feed entry link is not an http(s) URL: %r' % url[:100],
      raw,
      feed_url=feed_url,
    )
  if require_text and not content_html and not summary:
    return DEAD_LETTER, schema.dead_letter(
      STAGE_READ_FEED, 'feed entry has no content or summary', raw, url=url, feed_url=feed_url
    )
  authors = [
    a.get('name') for a in entry.get('authors') or [] if isinstance(a, dict) and a.get('name')
  ]
  if not authors and entry.get('author'):
    authors = [entry.get('author')]
  published = entry.get('published_parsed') or entry.get('updated_parsed')
  return 'page', {
    'url': url,
    'feed_url': feed_url,
    'title': entry.get('title') or None,
    'summary': summary,
    'authors': authors,
    'published_at': iso_utc(published),
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
      DEAD_LETTER,
      schema.dead_letter(
        STAGE_READ_FEED,
        'feed could not be parsed: %s' % e,
        _truncate(data[:100000].decode('utf-8', 'replace')),
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
      DEAD_LETTER,
      schema.dead_letter(
        STAGE_READ_FEED,
        error,
        _truncate(data[:100000].decode('utf-8', 'replace')),
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


class ExpandSpecs(beam.DoFn):
  """A feed URL passes through; a path or glob becomes the files it matches.
  A glob that matches nothing is a dead letter, so a typo is never silent."""

  def __init__(self, stage: str):
    self._stage = stage

  def process(self, spec: str):
    if is_url(spec):
      yield spec
      return
    try:
      matches = FileSystems.match([spec])[0].metadata_list
    except Exception as e:  # a bad bucket or pattern is the user's to see
      matches, error = [], str(e)
    else:
      error = 'no files match: %s' % spec
    if not matches:
      yield beam.pvalue.TaggedOutput(
        DEAD_LETTER,
        schema.dead_letter(
          self._stage,
          error,
          spec,
          url=spec,
          feed_url=spec if self._stage == STAGE_READ_FEED else None,
        ),
      )
    for metadata in sorted(matches, key=lambda m: m.path):
      yield metadata.path


class _FetchingDoFn(beam.DoFn):
  """A DoFn with one ``Fetcher`` (one HTTP session) per worker."""

  def __init__(self, fetch: FetchOptions):
    self._fetch = fetch
    self._retries = Metrics.counter('fetch', 'retries')

  def setup(self):
    self._fetcher = Fetcher(self._fetch.config, self._fetch.allow_private_hosts)

  def teardown(self):
    self._fetcher.close()


class ReadFeedDocuments(_FetchingDoFn):
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

  def setup(self):
    super().setup()
    self._state = load_state(self._fetch.state_path)

  def _read_file(self, path: str) -> bytes:
    with FileSystems.open(path, compression_type=CompressionTypes.AUTO) as f:
      data = f.read(self._max_bytes + 1)
    if len(data) > self._max_bytes:
      raise ValueError('feed is over the %d byte limit' % self._max_bytes)
    return data

  def _dead(self, spec: str, error: str):
    self._failed.inc()
    return beam.pvalue.TaggedOutput(
      DEAD_LETTER,
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
      if kind == DEAD_LETTER:
        self._failed.inc()
        yield beam.pvalue.TaggedOutput(DEAD_LETTER, record)
      else:
        self._entries.inc()
        yield record


class FetchArticlePages(_FetchingDoFn):
  """Fetches the page a feed entry links to, for its main text (--fetch-
  articles). The page's HTML goes into the record for extraction. When the
  fetch fails, the entry keeps the feed's own content or summary and says
  why in ``fetch_error``; only an entry with no text at all is a dead
  letter."""

  def __init__(self, fetch: FetchOptions):
    super().__init__(fetch)
    self._fetched = Metrics.counter('fetch', 'articles_fetched')
    self._fallbacks = Metrics.counter('fetch', 'articles_feed_text_kept')
    self._failed = Metrics.counter('fetch', 'articles_failed')

  def process(self, page: Dict[str, Any]):
    if page.get('source') != 'feed' or not is_url(page.get('url') or ''):
      yield page
      return
    try:
      result = self._fetcher.fetch_article(page['url'])
    except FetchError as e:
      self._retries.inc(e.attempts - 1)
      if page.get('content_html'):
        self._fallbacks.inc()
        yield dict(page, fetch_error=str(e))
      else:
        self._failed.inc()
        yield beam.pvalue.TaggedOutput(
          DEAD_LETTER,
          schema.dead_letter(
            STAGE_FETCH_ARTICLE,
            str(e),
            page.get('raw'),
            url=page['url'],
            feed_url=page.get('feed_url'),
          ),
        )
      return
    self._retries.inc(result.attempts - 1)
    self._fetched.inc()
    yield dict(
      page,
      html=result.text,
      fetch_error=None,
      fetched_at=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
    )


class SaveFetchState(beam.PTransform):
  """Writes the feeds' validators to the state file once ``after`` (the
  run's written outputs) exists: saved earlier, a failed run would leave
  the next one answered 304 for entries that were never written."""

  def __init__(self, state_path: str, after):
    super().__init__()
    self._path = state_path
    self._after = after

  def expand(self, fetch_state):
    return (
      fetch_state
      | 'Collect' >> beam.combiners.ToList()
      | 'Save'
      >> beam.Map(
        lambda updates, path, _: save_state(path, sorted(updates)),
        self._path,
        beam.pvalue.AsList(self._after),
      )
    )


def bounded_lines(f, max_bytes: int, chunk_bytes: int = 1 << 20) -> Iterable[bytes]:
  """The lines of a binary file (with their b'\\n'), each cut to at most
  `max_bytes` + 1 bytes: a line over the limit still reads as over it, and a
  file without newlines (binary garbage, one giant line) never fills memory,
  as readline() would."""
  pieces, kept = [], 0
  while True:
    chunk = f.read(chunk_bytes)
    if not chunk:
      break
    start = 0
    while start < len(chunk):
      end = chunk.find(b'\n', start)
      stop = len(chunk) if end < 0 else end + 1
      if kept <= max_bytes:
        piece = chunk[start : min(stop, start + max_bytes + 1 - kept)]
        pieces.append(piece)
        kept += len(piece)
      if end < 0:
        break
      yield b''.join(pieces)
      pieces, kept = [], 0
      start = stop
  if pieces:
    yield b''.join(pieces)


class ReadScrapedLines(beam.DoFn):
  """Reads one JSON Lines file (gzip by extension) line by line: ->
  (origin, line) for each line that is not blank, origin being `path:N`; a
  file that cannot be read is a dead letter."""

  def __init__(self, read_config: Dict[str, Any]):
    self._max_bytes = read_config['max_record_bytes']
    self._lines = Metrics.counter('sources', 'scraped_lines')

  def process(self, path: str):
    try:
      f = FileSystems.open(path, compression_type=CompressionTypes.AUTO)
    except Exception as e:
      yield beam.pvalue.TaggedOutput(
        DEAD_LETTER,
        schema.dead_letter(STAGE_READ_SCRAPED, 'file could not be opened: %s' % e, path),
      )
      return
    line_no = 0
    lines = bounded_lines(f, self._max_bytes)
    try:
      with f:
        while True:
          try:
            line = next(lines, b'')
          except Exception as e:  # e.g. a truncated gzip stream
            yield beam.pvalue.TaggedOutput(
              DEAD_LETTER,
              schema.dead_letter(
                STAGE_READ_SCRAPED, 'file unreadable after line %d: %s' % (line_no, e), path
              ),
            )
            return
          if not line:
            break
          line_no += 1
          if not line.strip():
            continue
          self._lines.inc()
          yield '%s:%d' % (path, line_no), line
    except Exception as e:
      logging.exception('reading %s failed', path)
      yield beam.pvalue.TaggedOutput(
        DEAD_LETTER, schema.dead_letter(STAGE_READ_SCRAPED, 'file read failed: %s' % e, path)
      )


class ParseScrapedLines(beam.DoFn):
  """(origin, line) -> the scraped page record, or a dead letter."""

  def __init__(self, read_config: Dict[str, Any]):
    self._max_bytes = read_config['max_record_bytes']
    self._bad = Metrics.counter('sources', 'scraped_bad_lines')

  def process(self, origin_line: Tuple[str, bytes]):
    origin, line = origin_line
    kind, record = parse_scraped_line(line, self._max_bytes, origin)
    if kind == DEAD_LETTER:
      self._bad.inc()
      yield beam.pvalue.TaggedOutput(DEAD_LETTER, record)
    else:
      yield record


class ReadScrapedFiles(beam.DoFn):
  """Reads and parses one JSON Lines file: -> page records, and dead
  letters (bad lines, unreadable files)."""

  def __init__(self, read_config: Dict[str, Any]):
    self._read = ReadScrapedLines(read_config)
    self._parse = ParseScrapedLines(read_config)

  def process(self, path: str):
    for item in self._read.process(path):
      if isinstance(item, beam.pvalue.TaggedOutput):
        yield item
      else:
        yield from self._parse.process(item)


class ReadInputs(beam.PTransform):
  """Feeds and scraped files -> (page records, dead letters).

  With ``fetch.fetch_articles``, feed entries' linked pages are fetched.
  After expansion, ``fetch_state`` holds the (feed URL, validators) pairs to
  save with ``SaveFetchState`` (None when no feed is a URL or no state path
  is set).
  """

  def __init__(
    self,
    feeds: List[str],
    scraped: List[str],
    read_config: Dict[str, Any],
    fetch: Optional[FetchOptions] = None,
  ):
    super().__init__()
    self._feeds = list(feeds)
    self._scraped = list(scraped)
    self._config = read_config
    if fetch is None:
      from configs.loading import load_config

      fetch = FetchOptions(load_config()['fetch'])
    self._fetch = fetch
    self.fetch_state = None

  def expand(self, pbegin):
    pages, dead = [], []
    if self._feeds:
      specs = (
        pbegin
        | 'FeedSpecs' >> beam.Create(self._feeds)
        | 'ExpandFeeds'
        >> beam.ParDo(ExpandSpecs(STAGE_READ_FEED)).with_outputs(DEAD_LETTER, main='specs')
      )
      feeds = (
        specs.specs
        | 'SpreadFeeds' >> beam.Reshuffle()
        | 'ReadFeeds'
        >> beam.ParDo(ReadFeedDocuments(self._config, self._fetch)).with_outputs(
          DEAD_LETTER, FETCH_STATE, main='pages'
        )
      )
      if self._fetch.state_path and any(map(is_url, self._feeds)):
        self.fetch_state = feeds[FETCH_STATE]
      entries = feeds.pages
      dead += [specs[DEAD_LETTER], feeds[DEAD_LETTER]]
      if self._fetch.fetch_articles:
        articles = (
          entries
          | 'SpreadEntries' >> beam.Reshuffle()
          | 'FetchArticles'
          >> beam.ParDo(FetchArticlePages(self._fetch)).with_outputs(DEAD_LETTER, main='pages')
        )
        entries = articles.pages
        dead.append(articles[DEAD_LETTER])
      pages.append(entries | 'SpreadPages' >> beam.Reshuffle())
    if self._scraped:
      files = (
        pbegin
        | 'ScrapedGlobs' >> beam.Create(self._scraped)
        | 'ExpandScraped'
        >> beam.ParDo(ExpandSpecs(STAGE_READ_SCRAPED)).with_outputs(DEAD_LETTER, main='files')
      )
      lines = (
        files.files
        | 'SpreadFiles' >> beam.Reshuffle()
        | 'ReadScraped'
        >> beam.ParDo(ReadScrapedLines(self._config)).with_outputs(DEAD_LETTER, main='lines')
      )
      # The lines are spread over the workers, not the parsed records: a
      # record holds its line as `raw` beside the page's html, twice the
      # bytes through the shuffle.
      scraped = (
        lines.lines
        | 'SpreadLines' >> beam.Reshuffle()
        | 'ParseScraped'
        >> beam.ParDo(ParseScrapedLines(self._config)).with_outputs(DEAD_LETTER, main='pages')
      )
      pages.append(scraped.pages)
      dead += [files[DEAD_LETTER], lines[DEAD_LETTER], scraped[DEAD_LETTER]]
    if not pages:
      empty = pbegin | 'NoInputs' >> beam.Create([])
      return empty, pbegin | 'NoDeadLetters' >> beam.Create([])
    all_pages = pages | 'FlattenPages' >> beam.Flatten()
    return all_pages, dead | 'FlattenReadErrors' >> beam.Flatten()
