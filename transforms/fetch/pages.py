"""Article pages: the page a feed entry links to, fetched for its text."""

import time
from typing import Any, Dict

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms import schema
from transforms.fetch.client import FetchingDoFn, FetchOptions
from transforms.fetch.errors import FetchError
from transforms.text.urls import is_url

STAGE_FETCH_ARTICLE = 'fetch_article'


class FetchArticlePages(FetchingDoFn):
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
