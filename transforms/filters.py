"""Filters: rules that send a record to rejected/ with its reason."""

from typing import Any, Dict, Optional

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms import schema

TOO_SHORT = 'too_short'
NO_LANGUAGE = 'no_language'


def rejection_reason(article: Dict[str, Any], min_words: int) -> Optional[str]:
  """Why the article must not be published, or None to keep it."""
  if schema.word_count(article.get('body')) < max(min_words, 1):
    return TOO_SHORT
  if not article.get('language'):
    return NO_LANGUAGE
  return None


class FilterArticles(beam.PTransform):
  """Labelled records -> kept records (main) and `rejected` with `reason`.

  Records get their `id` here, once their body is final."""

  def __init__(self, min_words: int):
    super().__init__()
    self._min_words = min_words

  def expand(self, articles):
    return articles | 'Filter' >> beam.ParDo(_FilterFn(self._min_words)).with_outputs(
      schema.REJECTED, main='articles'
    )


class _FilterFn(beam.DoFn):
  def __init__(self, min_words):
    self._min_words = min_words

  def process(self, article):
    article = schema.with_id(article)
    reason = rejection_reason(article, self._min_words)
    if reason:
      Metrics.counter('filter', reason).inc()
      yield beam.pvalue.TaggedOutput(schema.REJECTED, dict(article, reason=reason))
    else:
      yield article
