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
from transforms.io.partitions import SplitByDay, with_partition
from transforms.language.stage import DetectLanguage


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
    config = self._config
    extracted = pages | 'Extract' >> ExtractArticles(config['extract'])
    cleaned = extracted.articles | 'Clean' >> CleanArticles(config['clean'])
    stage_dead = [extracted.dead_letter, cleaned.dead_letter]
    articles = cleaned.articles
    if self._site_boilerplate:
      templated = articles | 'SiteBoilerplate' >> CutSiteBoilerplate(config['boilerplate'])
      articles = templated.articles
      stage_dead.append(templated.dead_letter)
    labelled = articles | 'Language' >> DetectLanguage(config['language'])
    kept = labelled.articles | 'Filter' >> FilterArticles(self._min_words)
    stage_dead.append(labelled.dead_letter)
    rejected = (extracted.rejected, kept.rejected) | 'AllRejected' >> beam.Flatten()
    dead = stage_dead | 'StageDeadLetters' >> beam.Flatten()
    return Processed(kept.articles, rejected, dead)


class ProcessByDay(beam.PTransform):
  """A backfill's pages, each tagged with its day -> ``Processed``, tagged
  likewise. Each day runs the text stages on its own (site boilerplate is
  learned over one day's pages), so a day's records do not depend on the
  other days of the range."""

  def __init__(self, config: Dict[str, Any], min_words: int, days: List[str]):
    super().__init__()
    self._config = config
    self._min_words = min_words
    self._days = list(days)

  def expand(self, pages):
    per_day = pages | 'ByDay' >> SplitByDay(self._days)
    articles, rejected, dead = [], [], []
    for day, day_pages in zip(self._days, per_day):
      tag = lambda record, day=day: with_partition(record, day)
      processed = day_pages | '%s/Process' % day >> ProcessArticles(self._config, self._min_words)
      articles.append(processed.articles | '%s/Tag' % day >> beam.Map(tag))
      rejected.append(processed.rejected | '%s/TagRejected' % day >> beam.Map(tag))
      dead.append(processed.dead_letter | '%s/TagDeadLetters' % day >> beam.Map(tag))
    return Processed(
      articles | 'AllArticles' >> beam.Flatten(),
      rejected | 'AllRejected' >> beam.Flatten(),
      dead | 'AllDeadLetters' >> beam.Flatten(),
    )
