"""Article pages: the page a feed entry links to, fetched for its text."""

import time
from typing import Any, Dict, NamedTuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms import schema
from transforms.fetch.client import FetchingDoFn, FetchOptions
from transforms.fetch.errors import FetchError
from transforms.text.urls import is_url

STAGE_FETCH_ARTICLE = 'fetch_article'
# The sources that list pages to fetch: feed entries, and sitemaps' pages.
_LISTED = ('feed', 'sitemap')


class FetchArticlePages(FetchingDoFn):
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

  def process(self, page: Dict[str, Any]):
    if page.get('source') not in _LISTED or not is_url(page.get('url') or ''):
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


class FetchLinkedPages(beam.PTransform):
  """Feed entries -> ``FetchedPages``: each entry with the page it links to
  fetched and attached (scraped pages pass through untouched), spread over
  the workers first; a page that cannot be fetched is a dead letter, or
  keeps the feed's text with `fetch_error`."""

  def __init__(self, fetch: FetchOptions):
    super().__init__()
    self._fetch = fetch

  def expand(self, entries):
    fetched = (
      entries
      | 'SpreadEntries' >> beam.Reshuffle()
      | 'Fetch'
      >> beam.ParDo(FetchArticlePages(self._fetch)).with_outputs(schema.DEAD_LETTER, main='pages')
    )
    return FetchedPages(fetched.pages, fetched[schema.DEAD_LETTER])
