"""The language stage: each record labelled with its language by
``LanguageDetector`` (``detector.py``), its foreign fragments cut."""

from typing import Any, Dict

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms import schema
from transforms.dead_letters import RecordStageFn
from transforms.language.detector import LanguageDetector

STAGE = 'language'


class DetectLanguage(beam.PTransform):
  """Cleaned records -> records with `language`, foreign fragments cut."""

  def __init__(self, language_config: Dict[str, Any]):
    super().__init__()
    self._config = language_config

  def expand(self, articles):
    return articles | 'DetectLanguage' >> beam.ParDo(_LanguageFn(self._config)).with_outputs(
      schema.DEAD_LETTER, main='articles'
    )


class _LanguageFn(RecordStageFn):
  STAGE = STAGE

  def __init__(self, config):
    super().__init__()
    self._config = config
    self._cut = Metrics.counter(STAGE, 'foreign_fragments_cut')

  def setup(self):
    self._detector = LanguageDetector(self._config)

  def outputs(self, article):
    labelled = self._detector.label(article)
    self._cut.inc(
      sum(1 for r in labelled['removed'] if r['reason'] == schema.FOREIGN_LANGUAGE)
      - sum(1 for r in article.get('removed') or [] if r['reason'] == schema.FOREIGN_LANGUAGE)
    )
    yield labelled
