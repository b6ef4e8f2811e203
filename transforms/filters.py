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


class DistinctRejectedIds(beam.PTransform):
  """Rejected records -> the same, each with an id that no other record of
  the run holds. A rejected record's id is the id its text would have as an
  article; where an article or a duplicate holds that id, or another
  rejected record does (the same input read twice), the rejected one gets
  ``schema.copy_id(id, n, 'rejected')``, n = 1, 2, ... in the order of the
  records' JSON, so the ids are the same on every run and runner.

  `taken`: PCollections of the run's records that hold ids (its articles
  and duplicates; only their ids are read). Both sides are keyed by id, as
  (id, record) and (id, None), flattened and grouped: a join's tagging and
  untagging would cost each element two more steps through the runner.
  """

  def __init__(self, taken):
    super().__init__()
    self._taken = taken

  def expand(self, rejected):
    taken = [
      records | 'Taken%d' % i >> beam.Map(lambda r: (r['id'], None))
      for i, records in enumerate(self._taken)
    ]
    return (
      [rejected | 'ById' >> beam.Map(lambda r: (r['id'], r))] + taken
      | 'All' >> beam.Flatten()
      | 'Join' >> beam.GroupByKey()
      | 'Distinct' >> beam.FlatMap(_with_distinct_ids)
    )


def _with_distinct_ids(joined):
  """(id, [rejected record | None for an id taken]) -> the rejected records
  with distinct ids."""
  record_id, values = joined
  rejected, first = [], 0
  for value in values:  # a grouped iterable, read once
    if value is None:
      first = 1
    else:
      rejected.append(value)
  for n, record in enumerate(sorted(rejected, key=schema.to_json_line), first):
    yield dict(record, id=schema.copy_id(record_id, n, schema.REJECTED)) if n else record
