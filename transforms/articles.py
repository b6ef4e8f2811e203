"""The text stages in the order every entry point runs them.

Pages -> extract -> clean -> site boilerplate -> language -> filter. Batch
ingest, backfills and streams all use ``ProcessArticles``, so the stages and
their order are wired in one place.
"""

from typing import Any, Dict, List, NamedTuple

import apache_beam as beam

from transforms.boilerplate import CutSiteBoilerplate
from transforms.clean import CleanArticles
from transforms.extract import ExtractArticles
from transforms.filters import FilterArticles
from transforms.io.partitions import (
  PARTITION_FIELD,
  DateByPublication,
  SplitByDay,
  failure_day,
  nearest_publication_day,
  with_partition,
)
from transforms.language.stage import DetectLanguage, LabelAhead


class Processed(NamedTuple):
  articles: beam.PCollection  # to deduplicate
  rejected: beam.PCollection
  dead_letter: beam.PCollection


class ProcessArticles(beam.PTransform):
  """Pages -> ``Processed``: articles to deduplicate, rejected, dead letters.

  `site_boilerplate`: learn and cut each site's template lines over the
  input. It counts lines over the whole input, so it needs a bounded one:
  the unbounded streaming graph runs without it (local polls, bounded, keep
  it).
  """

  def __init__(self, config: Dict[str, Any], min_words: int, site_boilerplate: bool = True):
    super().__init__()
    self._config = config
    self._min_words = min_words
    self._site_boilerplate = site_boilerplate

  def expand(self, pages):
    """`pages`: page records, or (page records, articles extracted before):
    a backfill's web archive pages, extracted once for the range to be
    dated by what extraction reads."""
    config = self._config
    pages, extracted_before = pages if isinstance(pages, tuple) else (pages, None)
    extracted = pages | 'Extract' >> ExtractArticles(config['extract'])
    articles = extracted.articles
    if extracted_before is not None:
      articles = (articles, extracted_before) | 'WithExtractedBefore' >> beam.Flatten()
    cleaned = articles | 'Clean' >> CleanArticles(config['clean'])
    stage_dead = [extracted.dead_letter, cleaned.dead_letter]
    articles = cleaned.articles
    if self._site_boilerplate:
      articles = articles | 'LabelAhead' >> LabelAhead(config['language'], config['extract'])
      templated = articles | 'SiteBoilerplate' >> CutSiteBoilerplate(config['boilerplate'])
      articles = templated.articles
      stage_dead.append(templated.dead_letter)
    labelled = articles | 'Language' >> DetectLanguage(config['language'], config['extract'])
    kept = labelled.articles | 'Filter' >> FilterArticles(self._min_words)
    stage_dead.append(labelled.dead_letter)
    rejected = (extracted.rejected, kept.rejected) | 'AllRejected' >> beam.Flatten()
    dead = stage_dead | 'StageDeadLetters' >> beam.Flatten()
    return Processed(kept.articles, rejected, dead)


class ProcessByDay(beam.PTransform):
  """A backfill's pages, each tagged with its day -> ``Processed``, tagged
  likewise. Each day runs the text stages on its own (site boilerplate is
  learned over one day's pages), so a day's records do not depend on the
  other days of the range.

  `archives`: pages without a day (web archives' and sitemaps' pages) are
  extracted once for the range, and each article goes to the day extraction
  says it was published (``DateByPublication``), before the other stages
  run on its day."""

  def __init__(
    self, config: Dict[str, Any], min_words: int, days: List[str], archives: bool = False
  ):
    super().__init__()
    self._config = config
    self._min_words = min_words
    self._days = list(days)
    self._archives = archives

  def expand(self, pages):
    days = self._days
    articles, rejected, dead = [], [], []
    archived_by_day = None
    if self._archives:
      dated_or_not = pages | 'DatedOrNot' >> beam.Partition(
        lambda page, n: int(PARTITION_FIELD not in page), 2
      )
      pages = dated_or_not[0]
      extracted = dated_or_not[1] | 'ExtractArchived' >> ExtractArticles(self._config['extract'])
      dated = extracted.articles | 'DateArchived' >> DateByPublication(days)
      archived_by_day = dated.articles | 'ArchivedByDay' >> SplitByDay(days)
      rejected.append(
        extracted.rejected
        | 'DateArchivedRejected'
        >> beam.Map(lambda r: with_partition(r, nearest_publication_day(r, days)))
      )
      dead += [
        dated.dead_letter,
        extracted.dead_letter
        | 'DateArchivedFailures' >> beam.Map(lambda r: with_partition(r, failure_day(r, days))),
      ]
    per_day = pages | 'ByDay' >> SplitByDay(days)
    for i, (day, day_pages) in enumerate(zip(days, per_day)):
      tag = lambda record, day=day: with_partition(record, day)
      inputs = (day_pages, archived_by_day[i]) if archived_by_day else day_pages
      processed = inputs | '%s/Process' % day >> ProcessArticles(self._config, self._min_words)
      articles.append(processed.articles | '%s/Tag' % day >> beam.Map(tag))
      rejected.append(processed.rejected | '%s/TagRejected' % day >> beam.Map(tag))
      dead.append(processed.dead_letter | '%s/TagDeadLetters' % day >> beam.Map(tag))
    return Processed(
      articles | 'AllArticles' >> beam.Flatten(),
      rejected | 'AllRejected' >> beam.Flatten(),
      dead | 'AllDeadLetters' >> beam.Flatten(),
    )
