"""Reading inputs: RSS/Atom feeds, JSON Lines files of scraped pages, web
archives (WARC) and sitemaps.

``ReadInputs`` wires the readers (``feeds.py``, ``scraped.py``, ``warc.py``,
``sitemaps.py``, and for sitemaps' pages and, with --fetch-articles, feed
entries' pages ``transforms/fetch/pages.py``). Globs are expanded inside
DoFns, at run time, so that building the job graph (e.g. a Dataflow dry
run) never lists a bucket. Every input ends as a raw page record or a dead
letter.

A raw page record is a dict with the article fields known so far plus:
``html`` (a whole page), ``content_html`` (a feed entry's HTML content),
``text`` (plain text), and ``raw`` (the input as read, for replay); with
--fetch-articles, feed entries also carry ``fetch_error`` (None, or why
their page could not be fetched). HTTP itself is ``transforms/fetch/client.py``.
"""

from typing import Any, Dict, List, NamedTuple, Optional, Tuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from transforms import schema
from transforms.fetch.client import FetchOptions
from transforms.fetch.pages import FetchLinkedPages
from transforms.fetch.state import FETCH_STATE
from transforms.io.feeds import STAGE_READ_FEED, ReadFeedDocuments
from transforms.io.scraped import STAGE_READ_SCRAPED, IndexScrapedFile, ReadScrapedSpan
from transforms.io.sitemaps import ReadSitemaps
from transforms.io.warc import SKIPPED, STAGE_READ_WARC, IndexWarcFile, ReadWarcSpan
from transforms.text.urls import is_url


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
        schema.DEAD_LETTER,
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


class Inputs(NamedTuple):
  pages: beam.PCollection
  dead_letter: beam.PCollection
  fetch_state: Optional[beam.PCollection]
  # Records read and left out on purpose (a WARC's requests and non-HTML
  # responses, sitemap pages outside a backfill's range), as
  # {'type', 'day'}: counted in summary.json, not dead letters.
  skipped: Optional[beam.PCollection] = None


class ReadInputs(beam.PTransform):
  """Feeds, scraped files, WARC files and sitemaps -> ``Inputs``: page
  records, dead letters, the (URL, validators) pairs of the feeds, the
  sitemaps and their pages to save with ``SaveFetchState`` (None when no
  feed or sitemap is a URL or no state path is set), and the records
  skipped on purpose (None without WARC files or sitemaps).

  With ``fetch.fetch_articles``, feed entries' linked pages are fetched;
  the pages sitemaps list always are. `sitemap_days`: (first, last) day of
  a backfill: only the sitemap pages dated within it are fetched.

  `spread`: whether the files, their spans and the fetched pages
  are spread over the workers (a Reshuffle after each read). Where the one
  worker is the launcher's own process (the DirectRunner in memory), there
  is no other worker to spread to, and each Reshuffle would hold the whole
  input before the next step starts: there the reads flow straight into
  extraction (whose pool of children works on every core). The same
  records either way.
  """

  def __init__(
    self,
    feeds: List[str],
    scraped: List[str],
    read_config: Dict[str, Any],
    fetch: Optional[FetchOptions] = None,
    warc: List[str] = (),
    sitemaps: List[str] = (),
    sitemap_days: Optional[Tuple[str, str]] = None,
    spread: bool = True,
  ):
    super().__init__()
    self._spread = spread
    self._feeds = list(feeds)
    self._scraped = list(scraped)
    self._warc = list(warc)
    self._sitemaps = list(sitemaps)
    self._sitemap_days = sitemap_days
    self._config = read_config
    if fetch is None:
      from configs.loading import load_config

      fetch = FetchOptions(load_config()['fetch'])
    self._fetch = fetch

  def _spread_out(self, name: str) -> beam.PTransform:
    """A Reshuffle over the workers, or nothing where there is one."""
    return name >> (beam.Reshuffle() if self._spread else beam.Map(lambda element: element))

  def expand(self, pbegin):
    pages, dead, skipped, states = [], [], [], []
    if self._feeds:
      specs = (
        pbegin
        | 'FeedSpecs' >> beam.Create(self._feeds)
        | 'ExpandFeeds'
        >> beam.ParDo(ExpandSpecs(STAGE_READ_FEED)).with_outputs(schema.DEAD_LETTER, main='specs')
      )
      feeds = (
        specs.specs
        | self._spread_out('SpreadFeeds')
        | 'ReadFeeds'
        >> beam.ParDo(ReadFeedDocuments(self._config, self._fetch)).with_outputs(
          schema.DEAD_LETTER, FETCH_STATE, main='pages'
        )
      )
      if self._fetch.state_path and any(map(is_url, self._feeds)):
        states.append(feeds[FETCH_STATE])
      entries = feeds.pages
      dead += [specs[schema.DEAD_LETTER], feeds[schema.DEAD_LETTER]]
      if self._fetch.fetch_articles:
        fetched = entries | 'FetchArticles' >> FetchLinkedPages(self._fetch)
        entries = fetched.pages
        dead.append(fetched.dead_letter)
      pages.append(entries | self._spread_out('SpreadPages'))
    if self._scraped:
      files = (
        pbegin
        | 'ScrapedGlobs' >> beam.Create(self._scraped)
        | 'ExpandScraped'
        >> beam.ParDo(ExpandSpecs(STAGE_READ_SCRAPED)).with_outputs(
          schema.DEAD_LETTER, main='files'
        )
      )
      # A file is cut into spans of whole lines and the spans, not the
      # lines, are spread over the workers: each reads its own spans' pages
      # from the file, so the pages never go through a shuffle.
      spans = (
        files.files
        | self._spread_out('SpreadFiles')
        | 'IndexScraped'
        >> beam.ParDo(IndexScrapedFile(self._config)).with_outputs(schema.DEAD_LETTER, main='spans')
      )
      scraped = (
        spans.spans
        | self._spread_out('SpreadSpans')
        | 'ReadScraped'
        >> beam.ParDo(ReadScrapedSpan(self._config)).with_outputs(schema.DEAD_LETTER, main='pages')
      )
      pages.append(scraped.pages)
      dead += [files[schema.DEAD_LETTER], spans[schema.DEAD_LETTER], scraped[schema.DEAD_LETTER]]
    if self._warc:
      files = (
        pbegin
        | 'WarcGlobs' >> beam.Create(self._warc)
        | 'ExpandWarc'
        >> beam.ParDo(ExpandSpecs(STAGE_READ_WARC)).with_outputs(schema.DEAD_LETTER, main='files')
      )
      # A file is cut into spans at record offsets and the spans are spread
      # over the workers: no worker reads a whole 1 GB archive alone.
      indexed = (
        files.files
        | self._spread_out('SpreadWarcFiles')
        | 'IndexWarc'
        >> beam.ParDo(IndexWarcFile(self._config)).with_outputs(schema.DEAD_LETTER, main='spans')
      )
      archived = (
        indexed.spans
        | self._spread_out('SpreadWarcSpans')
        | 'ReadWarc'
        >> beam.ParDo(ReadWarcSpan()).with_outputs(schema.DEAD_LETTER, SKIPPED, main='pages')
      )
      pages.append(archived.pages)
      skipped.append(archived[SKIPPED])
      dead += [files[schema.DEAD_LETTER], indexed[schema.DEAD_LETTER], archived[schema.DEAD_LETTER]]
    if self._sitemaps:
      listed = (
        pbegin
        | 'Sitemaps' >> beam.Create(self._sitemaps)
        | 'ReadSitemaps'
        >> beam.ParDo(ReadSitemaps(self._config, self._fetch, self._sitemap_days)).with_outputs(
          schema.DEAD_LETTER, SKIPPED, FETCH_STATE, main='pages'
        )
      )
      fetched = listed.pages | 'FetchListedPages' >> FetchLinkedPages(self._fetch)
      pages.append(fetched.pages)
      skipped += [listed[SKIPPED], fetched.skipped]
      dead += [listed[schema.DEAD_LETTER], fetched.dead_letter]
      if self._fetch.state_path and any(map(is_url, self._sitemaps)):
        states += [listed[FETCH_STATE], fetched.fetch_state]
    all_skipped = skipped | 'FlattenSkipped' >> beam.Flatten() if skipped else None
    fetch_state = states | 'FlattenFetchState' >> beam.Flatten() if states else None
    if not pages:
      empty = pbegin | 'NoInputs' >> beam.Create([])
      return Inputs(empty, pbegin | 'NoDeadLetters' >> beam.Create([]), None)
    all_pages = pages | 'FlattenPages' >> beam.Flatten()
    return Inputs(all_pages, dead | 'FlattenReadErrors' >> beam.Flatten(), fetch_state, all_skipped)
