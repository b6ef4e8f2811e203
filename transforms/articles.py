"""The text stages in the order every entry point runs them.

Pages -> extract -> clean -> site boilerplate -> language -> filter. Batch
ingest, backfills and streams all use ``ProcessArticles``, so the stages and
their order are wired in one place.
"""

from typing import Any, Dict

import apache_beam as beam

from transforms.boilerplate import CutSiteBoilerplate
from transforms.clean import CleanArticles
from transforms.extract import ExtractArticles
from transforms.filters import FilterArticles
from transforms.language.stage import DetectLanguage


class ProcessArticles(beam.PTransform):
  """Pages -> (articles to deduplicate, rejected, dead letters).

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
    return kept.articles, rejected, dead
