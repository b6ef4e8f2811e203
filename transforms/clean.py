"""The cleaning stage: each extracted record through ``ArticleCleaner``
(``transforms/text/cleaning.py``), one record out per story."""

from typing import Any, Dict

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms import schema
from transforms.dead_letters import RecordStageFn
from transforms.text.cleaning import ArticleCleaner

STAGE = 'clean'


class CleanArticles(beam.PTransform):
  """Extracted records -> cleaned records (one per story), dead letters."""

  def __init__(self, clean_config: Dict[str, Any]):
    super().__init__()
    self._config = clean_config

  def expand(self, articles):
    return articles | 'Clean' >> beam.ParDo(_CleanFn(self._config)).with_outputs(
      schema.DEAD_LETTER, main='articles'
    )


class _CleanFn(RecordStageFn):
  STAGE = STAGE

  def __init__(self, config):
    super().__init__()
    self._config = config
    self._stories = Metrics.counter(STAGE, 'stories')
    self._split_pages = Metrics.counter(STAGE, 'multi_story_pages')

  def setup(self):
    self._cleaner = ArticleCleaner(self._config)

  def outputs(self, article):
    stories = self._cleaner.clean(article)
    if len(stories) > 1:
      self._split_pages.inc()
    self._stories.inc(len(stories))
    return stories
