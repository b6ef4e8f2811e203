"""Sitemaps: the article pages a site lists, to fetch.

A `--sitemaps` spec is a sitemap (``.xml`` or ``.xml.gz``, a urlset or a
sitemap index, Google News sitemaps included), a local or gs:// path to
one, or a site root (``https://news.example/``) whose robots.txt lists its
sitemaps on ``Sitemap:`` lines. Indexes are followed to their children,
at most `read.sitemap_max_depth` levels down and `read.sitemap_max_files`
sitemaps per spec; a sitemap met twice (a loop) is read once.

Each listed page becomes a page record to fetch (``source`` 'sitemap',
``feed_url`` the sitemap that listed it) carrying what the sitemap says
of it as `fallback` for what the page lacks: `published_at`
(news:publication_date, else lastmod), `title` (news:title) and `language`
(news:language as records hold languages, ISO 639-1: taken by the language
stage when the detector cannot tell); the whole entry is its `raw`. The pages are fetched by
``transforms/fetch/pages.py``, like the pages feed entries link to. A
sitemap that cannot be fetched or parsed is a dead letter naming it; the
others go on.

With a fetch state (--fetch-state; ``transforms/fetch/state.py``) a sitemap
that lists pages is fetched conditionally, as feeds are: one that answers
304 lists nothing new since the run that saved its validators and is
counted (`sitemap_not_modified`), its pages not fetched again. Indexes and
robots.txt are always read whole: an unchanged index may point to changed
sitemaps. The pages themselves are fetched conditionally too.
"""

import functools
import gzip
import io
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import urljoin, urlsplit

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from transforms import schema
from transforms.fetch.client import FetchOptions
from transforms.fetch.errors import FetchError
from transforms.fetch.state import FETCH_STATE, ConditionalFetchingDoFn, validators_of
from transforms.io.timestamps import iso_utc
from transforms.io.warc import SKIPPED
from transforms.text.urls import is_url

STAGE_READ_SITEMAP = 'read_sitemap'
SOURCE_SITEMAP = 'sitemap'
# The sitemap protocol's own limit on an uncompressed sitemap.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024

_PARSER_OPTIONS = dict(resolve_entities=False, no_network=True, huge_tree=False, recover=True)


class SitemapError(Exception):
  pass


def _local(tag: Any) -> str:
  return tag.rsplit('}', 1)[-1].lower() if isinstance(tag, str) else ''


def _child_text(element, *path: str) -> Optional[str]:
  """The text of the first descendant along `path` (local names)."""
  for name in path:
    element = next((c for c in element if _local(c.tag) == name), None)
    if element is None:
      return None
  text = (element.text or '').strip()
  return text or None


def unpacked(data: bytes) -> bytes:
  """A sitemap's XML: gunzipped when it is gzip (by its bytes, whatever
  its name or Content-Type says), cut off at the protocol's 50 MB."""
  if data[:2] == b'\x1f\x8b':
    try:
      with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
        data = f.read(MAX_SITEMAP_BYTES + 1)
    except (OSError, EOFError) as e:
      raise SitemapError('not a readable gzip file: %s' % e) from None
  if len(data) > MAX_SITEMAP_BYTES:
    raise SitemapError('over the sitemap protocol\'s %d bytes' % MAX_SITEMAP_BYTES)
  return data


def parse_sitemap(data: bytes, base: str) -> Tuple[List[str], List[Dict[str, Any]]]:
  """(child sitemaps, listed pages) of one sitemap document: an index
  lists sitemaps, a urlset pages, each page as {'url', 'lastmod',
  'published_at', 'title', 'language'}. Raises SitemapError when the
  document is neither."""
  # Imported here: a run that reads no sitemap does not load lxml in the
  # launcher (about 80 ms of its start-up); extraction's children have it.
  from lxml import etree

  try:
    root = etree.fromstring(unpacked(data), etree.XMLParser(**_PARSER_OPTIONS))
  except etree.XMLSyntaxError as e:
    raise SitemapError('not XML: %s' % e) from None
  if root is None:
    raise SitemapError('not XML')
  kind = _local(root.tag)
  if kind == 'sitemapindex':
    children = [_child_text(s, 'loc') for s in root if _local(s.tag) == 'sitemap']
    return [urljoin(base, c) for c in children if c], []
  if kind != 'urlset':
    raise SitemapError('not a sitemap: the root element is <%s>' % kind)
  pages = []
  for entry in root:
    if _local(entry.tag) != 'url':
      continue
    loc = _child_text(entry, 'loc')
    if not loc:
      continue
    pages.append(
      {
        'url': urljoin(base, loc),
        'lastmod': iso_utc(_child_text(entry, 'lastmod')),
        'published_at': iso_utc(_child_text(entry, 'news', 'publication_date')),
        'title': _child_text(entry, 'news', 'title'),
        'language': _child_text(entry, 'news', 'publication', 'language'),
      }
    )
  return [], pages


# ISO 639-2/B codes, which news:language allows beside ISO 639-1 and
# 639-2/T (lingua maps the latter).
_BIBLIOGRAPHIC = {
  'alb': 'sq', 'arm': 'hy', 'baq': 'eu', 'bur': 'my', 'chi': 'zh', 'cze': 'cs', 'dut': 'nl',
  'fre': 'fr', 'geo': 'ka', 'ger': 'de', 'gre': 'el', 'ice': 'is', 'mac': 'mk', 'mao': 'mi',
  'may': 'ms', 'per': 'fa', 'rum': 'ro', 'slo': 'sk', 'tib': 'bo', 'wel': 'cy',
}  # fmt: skip


@functools.cache
def _iso_639_3_to_1() -> Dict[str, str]:
  from lingua import Language

  return {
    language.iso_code_639_3.name.lower(): language.iso_code_639_1.name.lower()
    for language in Language.all()
  }


def record_language(code: Optional[str]) -> Optional[str]:
  """A news:language code as records hold languages, ISO 639-1: 'en',
  'EN', 'en-GB' -> 'en'; 'zh-cn', 'zh-tw' -> 'zh'; three-letter codes
  ('deu', 'ger') -> their two-letter one. None for what is no language code
  or has no two-letter one."""
  primary = (code or '').strip().lower().replace('_', '-').split('-')[0]
  if not primary.isascii() or not primary.isalpha():
    return None
  if len(primary) == 2:
    return primary
  if len(primary) == 3:
    return _BIBLIOGRAPHIC.get(primary) or _iso_639_3_to_1().get(primary)
  return None


def robots_sitemaps(text: str, base: str) -> List[str]:
  """The sitemaps a robots.txt lists on `Sitemap:` lines."""
  found = []
  for line in text.splitlines():
    name, colon, value = line.partition(':')
    if colon and name.strip().lower() == 'sitemap' and value.strip():
      found.append(urljoin(base, value.strip()))
  return found


def is_site_root(spec: str) -> bool:
  return is_url(spec) and urlsplit(spec).path in ('', '/')


def listed_day(entry: Dict[str, Any]) -> Optional[str]:
  """The day a sitemap says its page was published (else last modified)."""
  stamp = entry.get('published_at') or entry.get('lastmod')
  return stamp[:10] if stamp else None


def crawl_sitemaps(
  spec: str, read: Callable[[str], Optional[bytes]], max_depth: int, max_files: int
) -> Iterator[Tuple[str, Any]]:
  """The pages a spec lists: ('page', (sitemap, entry)) for each,
  ('listing', (sitemap, None)) for each sitemap of pages read,
  ('not_modified', (sitemap, None)) for each unchanged since the last run,
  and ('error', (sitemap, why)) for each sitemap that could not be read or
  was not followed. `read` fetches a URL or path (raising on failure; None:
  not modified)."""
  if is_site_root(spec):
    robots = urljoin(spec, '/robots.txt')
    try:
      text = read(robots).decode('utf-8', 'replace')
    except Exception as e:
      yield 'error', (robots, 'robots.txt could not be read: %s' % e)
      return
    roots = robots_sitemaps(text, robots)
    if not roots:
      yield 'error', (robots, 'robots.txt lists no Sitemap: lines')
  else:
    roots = [spec]
  pending = [(url, 0) for url in roots]
  seen = set()
  while pending:
    url, depth = pending.pop(0)
    if url in seen:
      continue  # a loop, or a sitemap listed twice
    seen.add(url)
    if len(seen) > max_files:
      yield 'error', (url, 'not read: over read.sitemap_max_files (%d)' % max_files)
      continue
    try:
      data = read(url)
      if data is None:
        yield 'not_modified', (url, None)
        continue
      children, pages = parse_sitemap(data, url)
    except Exception as e:
      yield 'error', (url, str(e))
      continue
    if not children:
      yield 'listing', (url, None)
    for child in children:
      if depth + 1 > max_depth:
        yield (
          'error',
          (child, 'not read: nested deeper than read.sitemap_max_depth (%d)' % max_depth),
        )
      else:
        pending.append((child, depth + 1))
    for entry in pages:
      yield 'page', (url, entry)


def sitemap_page(sitemap: str, entry: Dict[str, Any]) -> Dict[str, Any]:
  """A listed page as a page record to fetch."""
  return schema.new_page(
    entry['url'],
    feed_url=sitemap,
    source=SOURCE_SITEMAP,
    fallback={
      'title': entry.get('title'),
      'published_at': entry.get('published_at') or entry.get('lastmod'),
      'language': record_language(entry.get('language')),
    },
    raw=dict(entry, sitemap=sitemap),
  )


class ReadSitemaps(ConditionalFetchingDoFn):
  """A --sitemaps spec -> a page record for each page it lists (within
  `days` when given: a backfill's range), dead letters for the sitemaps
  that failed, under ``SKIPPED`` {'type', 'day'} for each page not dated
  within the range (`sitemap_outside_range`, `sitemap_undated`) and each
  sitemap unchanged since the last run (`sitemap_not_modified`), and under
  ``FETCH_STATE`` the validators of the sitemaps of pages fetched."""

  def __init__(
    self,
    read_config: Dict[str, Any],
    fetch: FetchOptions,
    days: Optional[Tuple[str, str]] = None,
  ):
    super().__init__(fetch)
    self._max_depth = read_config['sitemap_max_depth']
    self._max_files = read_config['sitemap_max_files']
    self._days = days
    self._listed = Metrics.counter('sources', 'sitemap_pages')
    self._failed = Metrics.counter('sources', 'sitemaps_failed')
    self._not_modified = Metrics.counter('fetch', 'sitemaps_not_modified')

  def setup(self):
    super().setup()
    # Validators of the sitemaps of pages read, until emitted (see the module doc).
    self._validators = {}

  def _read(self, location: str) -> Optional[bytes]:
    if is_url(location):
      previous = self._state.get(location)
      try:
        result = self._fetcher.fetch(location, previous)
      except FetchError as e:
        raise SitemapError(str(e)) from None
      if not (result.ok or result.not_modified):
        raise SitemapError('http_%d: %s' % (result.status, location))
      if self._fetch.state_path:
        self._validators[location] = validators_of(result, previous)
      return None if result.not_modified else result.body
    with FileSystems.open(location, compression_type=CompressionTypes.UNCOMPRESSED) as f:
      return f.read(MAX_SITEMAP_BYTES + 1)

  def process(self, spec: str):
    self._validators = {}
    for kind, (sitemap, item) in crawl_sitemaps(spec, self._read, self._max_depth, self._max_files):
      if kind in ('listing', 'not_modified'):
        validators = self._validators.pop(sitemap, None)
        if validators is not None:
          yield beam.pvalue.TaggedOutput(FETCH_STATE, (sitemap, validators))
        if kind == 'not_modified':
          self._not_modified.inc()
          yield beam.pvalue.TaggedOutput(SKIPPED, {'type': 'sitemap_not_modified', 'day': None})
        continue
      if kind == 'error':
        self._failed.inc()
        yield beam.pvalue.TaggedOutput(
          schema.DEAD_LETTER,
          schema.dead_letter(STAGE_READ_SITEMAP, item, sitemap, url=sitemap, feed_url=spec),
        )
        continue
      day = listed_day(item)
      if self._days and not (day and self._days[0] <= day <= self._days[1]):
        reason = 'sitemap_outside_range' if day else 'sitemap_undated'
        yield beam.pvalue.TaggedOutput(SKIPPED, {'type': reason, 'day': day})
        continue
      if not is_url(item['url']):
        yield beam.pvalue.TaggedOutput(
          schema.DEAD_LETTER,
          schema.dead_letter(
            STAGE_READ_SITEMAP,
            'listed page is not an http(s) URL: %r' % item['url'][:100],
            item,
            feed_url=sitemap,
          ),
        )
        continue
      self._listed.inc()
      yield sitemap_page(sitemap, item)
