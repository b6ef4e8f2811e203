"""Article pages: the page a feed entry links to, or a sitemap lists,
fetched for its text.

A sitemap's page is fetched conditionally when a fetch state is kept
(``state.py``, --fetch-state): its ETag and Last-Modified are saved after
the run, and a page that answers 304 the next time was published by an
earlier run: it is counted (``SKIPPED``, `page_not_modified`), not fetched
again, not a dead letter.
"""

import time
from typing import Any, Dict, NamedTuple, Optional

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms import schema
from transforms.fetch.client import FetchOptions
from transforms.fetch.errors import FetchError
from transforms.fetch.state import FETCH_STATE, ConditionalFetchingDoFn, validators_of
from transforms.text.urls import is_url

STAGE_FETCH_ARTICLE = 'fetch_article'
# The sources that list pages to fetch: feed entries, and sitemaps' pages.
_LISTED = ('feed', 'sitemap')
# Pages fetched conditionally: a sitemap lists every page of a site, day
# after day; a feed entry's page is fetched only when its feed changed.
_CONDITIONAL = ('sitemap',)
SKIPPED = schema.SKIPPED
PAGE_NOT_MODIFIED = 'page_not_modified'


class FetchArticlePages(ConditionalFetchingDoFn):
  """Fetches the page a feed entry links to, for its main text (--fetch-
  articles), or a page a sitemap lists. The page's HTML goes into the record for extraction. When the
  fetch fails, the entry keeps the feed's own content or summary and says
  why in ``fetch_error``; only an entry with no text at all is a dead
  letter."""

  def __init__(self, fetch: FetchOptions):
    super().__init__(fetch)
    self._fetched = Metrics.counter('fetch', 'articles_fetched')
    self._fallbacks = Metrics.counter('fetch', 'articles_feed_text_kept')
    self._failed = Metrics.counter('fetch', 'articles_failed')
    self._not_modified = Metrics.counter('fetch', 'pages_not_modified')

  def process(self, page: Dict[str, Any]):
    if page.get('source') not in _LISTED or not is_url(page.get('url') or ''):
      yield page
      return
    conditional = bool(self._fetch.state_path) and page['source'] in _CONDITIONAL
    previous: Optional[Dict[str, str]] = self._state.get(page['url']) if conditional else None
    try:
      result = self._fetcher.fetch_article(page['url'], previous)
    except FetchError as e:
      self._retries.inc(e.attempts - 1)
      if page.get('content_html'):
        self._fallbacks.inc()
        yield dict(page, fetch_error=str(e))
      else:
        self._failed.inc()
        yield beam.pvalue.TaggedOutput(
          schema.DEAD_LETTER,
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
    if conditional:
      validators = validators_of(result, previous)
      if validators or previous:
        yield beam.pvalue.TaggedOutput(FETCH_STATE, (page['url'], validators))
    if result.not_modified:
      self._not_modified.inc()
      listed = (page.get(schema.FALLBACK) or {}).get('published_at')
      yield beam.pvalue.TaggedOutput(
        SKIPPED, {'type': PAGE_NOT_MODIFIED, 'day': listed[:10] if listed else None}
      )
      return
    self._fetched.inc()
    yield dict(
      page,
      html=result.text,
      fetch_error=None,
      fetched_at=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
    )


class FetchedPages(NamedTuple):
  pages: beam.PCollection
  dead_letter: beam.PCollection
  # (URL, validators) of the pages fetched conditionally, to save.
  fetch_state: beam.PCollection
  # {'type': 'page_not_modified', 'day'} of each page that answered 304.
  skipped: beam.PCollection


class FetchLinkedPages(beam.PTransform):
  """Feed entries and sitemaps' pages -> ``FetchedPages``: each with the
  page it links to fetched and attached (scraped pages pass through
  untouched), spread over the workers first; a page that cannot be fetched
  is a dead letter, or keeps the feed's text with `fetch_error`; a sitemap's
  page unchanged since an earlier run is counted as skipped."""

  def __init__(self, fetch: FetchOptions):
    super().__init__()
    self._fetch = fetch

  def expand(self, entries):
    fetched = (
      entries
      | 'SpreadEntries' >> beam.Reshuffle()
      | 'Fetch'
      >> beam.ParDo(FetchArticlePages(self._fetch)).with_outputs(
        schema.DEAD_LETTER, FETCH_STATE, SKIPPED, main='pages'
      )
    )
    return FetchedPages(
      fetched.pages, fetched[schema.DEAD_LETTER], fetched[FETCH_STATE], fetched[SKIPPED]
    )
