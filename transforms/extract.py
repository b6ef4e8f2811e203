"""Extraction: raw page records to article records.

Whole pages go through ``transforms.text.page.extract_page`` (trafilatura,
with readability, jusText and resiliparse voting on the main text as
`extract.mode` says; each page parsed once: metadata, main text, the stories of a page holding
several in <article> elements, one record per story, and the page's printed
lead), in one round trip to the time-budget process. Feed entries' HTML
content is already the article, so it is only converted to text. Every body
leaves this stage normalized the same way (``page_text.normalize_text``).
"""

import functools
from typing import Any, Dict, List, Optional, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms import schema
from transforms.io.report import ProgressLog
from transforms.io.timestamps import publication_time
from transforms.text.budget import BudgetExceeded
from transforms.text.page import (
  extract_page,
  html_fragment_to_text,
  latest_publication_day,
  normalize_text,
  truncate_html,
)
from transforms.text.urls import canonicalize_url, domain_of
from transforms.worker_pool import PooledRecordStageFn

STAGE = 'extract'


def build_article(
  page: Dict[str, Any],
  favor: str = 'balanced',
  min_chars: int = 200,
  max_html_bytes: Optional[int] = None,
  page_extractor=extract_page,
) -> Dict[str, Any]:
  """A raw page record -> an article record with a normalized body.

  A page over `max_html_bytes` is cut to that size first, and flagged in
  `warnings`. `page_extractor` is `extract_page` or a stand-in with its
  signature (the Beam stage runs it under a time budget). The body may still
  hold boilerplate; cleaning comes next.
  """
  return _build(page, favor, min_chars, max_html_bytes, page_extractor)[0]


def _build(
  page: Dict[str, Any],
  favor: str,
  min_chars: int,
  max_html_bytes: Optional[int],
  page_extractor,
  page_options: Tuple[int, ...] = (0, 0, 0),
  vote: Tuple[str, float] = ('balanced', 0.5),
) -> Tuple[Dict[str, Any], List[Tuple[str, str]]]:
  """(article, [(headline, text)] of its stories) of a raw page record: one
  call of `page_extractor` per page, given `page_options` (its arguments
  after `min_chars`), the latest publication day the page's fetch time
  allows and `vote` (its mode and vote_min_share)."""
  title = normalize_text(page.get('title')) or None
  # What a sitemap says of the page, for what the page itself lacks.
  fallback = page.get(schema.FALLBACK) or {}
  summary = None
  if page.get('summary'):
    summary = html_fragment_to_text(page['summary']) or None
  authors = list(page.get('authors') or [])
  published_at = page.get('published_at')
  canonical = None
  warnings = list(page.get('warnings') or [])
  stories = []
  if page.get('html'):
    page_html = page['html']
    cut = truncate_html(page_html, max_html_bytes) if max_html_bytes else None
    if cut is not None:
      warnings.append('html cut to its first %d bytes (extract.max_html_bytes)' % max_html_bytes)
      page_html = cut
    meta = page_extractor(
      page_html,
      page.get('url'),
      favor,
      min_chars,
      *page_options,
      latest_publication_day(page.get('fetched_at')),
      *vote,
    )
    body = meta['text']
    stories = meta['stories']
    title = title or meta['title']
    authors = authors or meta['authors']
    published_at = published_at or publication_time(meta['date'])
    summary = summary or meta['description']
    canonical = meta['canonical_url']
    if not body and page.get('content_html'):  # a fetched page, no main text
      body = html_fragment_to_text(page['content_html'])
    if not body and page.get('text'):
      body = normalize_text(page['text'])
  elif page.get('content_html'):
    body = html_fragment_to_text(page['content_html'])
  else:
    body = normalize_text(page.get('text'))
  title = title or normalize_text(fallback.get('title')) or None
  published_at = published_at or fallback.get('published_at')
  canonical_url = canonicalize_url(canonical or page.get('url'))
  extra = {'fetch_error': page['fetch_error']} if 'fetch_error' in page else {}
  # Author names are text like the title: no markup reaches the record.
  authors = [a for a in (normalize_text(str(a)) for a in authors) if a]
  article = schema.new_article(
    **extra,
    url=page.get('url'),
    canonical_url=canonical_url,
    feed_url=page.get('feed_url'),
    domain=domain_of(canonical_url),
    title=title,
    body=body,
    summary=summary,
    authors=authors,
    published_at=published_at,
    fetched_at=page.get('fetched_at'),
    source=page.get('source'),
    warnings=warnings,
  )
  if fallback and body:
    article[schema.FALLBACK] = fallback  # for the language stage and a backfill's days
  return article, stories


def build_articles(
  page: Dict[str, Any], config: Dict[str, Any], page_extractor=extract_page
) -> List[Dict[str, Any]]:
  """A raw page record -> its article records: one, or one per story when
  its HTML holds several stories in <article> elements (`part` 0, 1, ...).
  `page_extractor` as in ``build_article``."""
  article, stories = _build(
    page,
    config['favor'],
    config['min_extracted_chars'],
    config['max_html_bytes'],
    page_extractor,
    (config['story_min_words'], config['story_min_paragraphs'], config['lead_min_words']),
    (config['mode'], config['vote_min_share']),
  )
  if not stories:
    return [article]
  return [
    dict(article, title=headline, body=text, summary=None, part=part)
    for part, (headline, text) in enumerate(stories)
  ]


class ExtractArticles(beam.PTransform):
  """Raw page records -> article records (main), with tagged outputs
  `rejected` (no text could be extracted) and `dead_letter` (errors)."""

  def __init__(self, extract_config: Dict[str, Any]):
    super().__init__()
    self._config = extract_config

  def expand(self, pages):
    return pages | 'Extract' >> beam.ParDo(_ExtractFn(self._config)).with_outputs(
      schema.REJECTED, schema.DEAD_LETTER, main='articles'
    )


class _ExtractFn(PooledRecordStageFn):
  """Extracts pages in the worker's pool of children, several at a time
  (``PooledRecordStageFn``): a 1-worker run extracts on all cores. Without
  a budget, pages are extracted one by one in the worker."""

  STAGE = STAGE

  def __init__(self, config):
    super().__init__(config)
    self._config = config
    self._ok = Metrics.counter(STAGE, 'extracted')
    self._empty = Metrics.counter(STAGE, 'no_text')
    self._timed_out = Metrics.counter(STAGE, 'timeout')
    self._progress_seconds = config['progress_seconds']

  def setup(self):
    super().setup()
    self._progress = ProgressLog(self._progress_seconds, 'pages extracted')

  def work(self, page, run):
    """build_articles, its page extractor run by `run` (in a child)."""
    return build_articles(page, self._config, functools.partial(run, extract_page))

  def emitted(self, page, articles):
    return self._tagged(articles)

  def emitting(self, outcomes):
    for outcome in outcomes:
      self._progress.count(
        outcome.tag if isinstance(outcome, beam.pvalue.TaggedOutput) else 'articles'
      )
      yield outcome

  def _tagged(self, articles):
    outcomes = []
    for article in articles:
      if not article['body']:
        self._empty.inc()
        outcomes.append(
          beam.pvalue.TaggedOutput(schema.REJECTED, dict(schema.with_id(article), reason='no_text'))
        )
      else:
        self._ok.inc()
        outcomes.append(article)
    return outcomes

  def dead_letter(self, page, error):
    """The page as read (replayable), and why it failed."""
    if isinstance(error, BudgetExceeded):
      self._timed_out.inc()
      message = 'timeout: extraction went %s (extract.timeout_seconds)' % error
    else:
      self._failed.inc()
      message = '%s: %s' % (type(error).__name__, error)
    return schema.dead_letter(
      STAGE, message, page.get('raw'), url=page.get('url'), feed_url=page.get('feed_url')
    )
