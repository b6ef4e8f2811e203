"""The pipeline every entry point runs: pages -> the four outputs.

read -> extract -> clean -> site boilerplate -> language -> filter -> dedup
-> classify, wired once here. Entry points choose their sources, their
dedup (within the run, against the published-records index, across the days
of a backfill, or with state and timers in a stream) and their writer:

  pages, read_dead = pipeline | ReadInputs(...)
  outputs = (pages, read_dead) | ArticleRecords(config, min_words, dedup)
  outputs | WriteOutputs(...)
"""

from typing import Any, Dict, NamedTuple, Optional

import apache_beam as beam

from transforms import schema
from transforms.articles import ProcessArticles
from transforms.dedup.ahead import SketchAhead
from transforms.filters import DistinctRejectedIds
from transforms.topics.classify import ClassifyTopics, PreloadTopicModel, ScoreTopicsAhead


class Outputs(NamedTuple):
  """The four outputs of a run, named as their folders are."""

  articles: beam.PCollection
  duplicates: beam.PCollection
  rejected: beam.PCollection
  dead_letter: beam.PCollection


class ArticleRecords(beam.PTransform):
  """(pages, the sources' dead letters) -> ``Outputs``.

  `dedup`: a transform of articles -> (kept, duplicates, ...): ``Deduplicate``,
  ``DeduplicateAgainstIndex``, a backfill's dedup across days, or a stream's
  ``StreamDeduplicate``. `process`: the text stages (default
  ``ProcessArticles``; a backfill runs them per day). `stamp`: applied to the
  articles before dedup (a stream's first-seen and event times).
  `site_boilerplate`: learn each site's template over the input (bounded
  inputs only).
  """

  def __init__(
    self,
    config: Dict[str, Any],
    min_words: int,
    dedup: beam.PTransform,
    process: Optional[beam.PTransform] = None,
    stamp: Optional[beam.PTransform] = None,
    site_boilerplate: bool = True,
  ):
    super().__init__()
    self._config = config
    self._dedup = dedup
    self._process = process or ProcessArticles(config, min_words, site_boilerplate)
    self._stamp = stamp

  def expand(self, sources):
    pages, read_dead = sources
    # Loads the classifier's model while the pages are extracted.
    config = self._config
    pages | 'PreloadTopicModel' >> PreloadTopicModel(config['classify'], config['extract'])
    processed = pages | 'Process' >> self._process
    # Scored in one child of the pool, and sketched for dedup in whichever
    # is idle, while the worker goes on to dedup.
    articles = (
      processed.articles
      | 'TopicsAhead' >> ScoreTopicsAhead(config['classify'], config['taxonomy'], config['extract'])
      | 'SketchesAhead' >> SketchAhead(config['dedup'], config['extract'])
    )
    if self._stamp is not None:
      articles = articles | 'Stamp' >> self._stamp
    deduped = articles | 'Dedup' >> self._dedup
    kept = deduped[0]
    duplicates = deduped[1] | 'DuplicatesAsWritten' >> beam.Map(schema.without_worked_ahead)
    classified = kept | 'Classify' >> ClassifyTopics(
      self._config['classify'], self._config['taxonomy']
    )
    rejected = processed.rejected
    if rejected.is_bounded:  # a stream's graph cannot wait for all ids
      rejected = rejected | 'DistinctRejectedIds' >> DistinctRejectedIds((kept, duplicates))
    return Outputs(
      articles=classified.articles,
      duplicates=duplicates,
      rejected=rejected,
      dead_letter=(read_dead, processed.dead_letter, classified.dead_letter)
      | 'AllDeadLetters' >> beam.Flatten(),
    )
