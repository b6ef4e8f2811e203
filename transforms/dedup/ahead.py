"""Dedup's keys of each body worked out ahead, in the worker's pool.

After the site boilerplate's barrier the worker alone filters the articles,
works out dedup's keys of each body (its fingerprint and MinHash sketch,
about 2 ms an article) and dedups, while the pool's extraction children
idle. ``SketchAhead`` hands the bodies to those children, ``GROUP`` at a
time, ahead of dedup; each article carries its keys and a digest of the body
they came from (``schema.SKETCH_AHEAD``), which dedup takes while the body is
still that one (``rules.body_keys``), and works out again otherwise. The
keys are the same either way. Only where extraction started the pool.
"""

from typing import Any, Callable, Dict, List

import apache_beam as beam

from transforms import schema
from transforms.dedup.batch import STAGE
from transforms.dedup.rules import bodies_keys, sketched_ahead
from transforms.worker_pool import RECORDS_AHEAD, PooledRecordStageFn


class SketchAhead(beam.PTransform):
  """Articles -> the same articles, each with its body's dedup keys worked
  out ahead in the pool's children (``schema.SKETCH_AHEAD``). An article
  this could not sketch goes on without them, and dedup sketches it."""

  def __init__(self, dedup_config: Dict[str, Any], extract_config: Dict[str, Any]):
    super().__init__()
    self._config = dedup_config
    self._extract_config = extract_config

  def expand(self, articles):
    return articles | 'SketchAhead' >> beam.ParDo(
      _SketchAheadFn(self._config, self._extract_config)
    )


class _SketchAheadFn(PooledRecordStageFn):
  STAGE = STAGE

  # Bodies sketched in one call: a call's round trip (pickling, the pipe)
  # costs about as much as a short body's sketch.
  GROUP = RECORDS_AHEAD

  def __init__(self, config, extract_config):
    # Any child: the sketches need nothing loaded, and the extraction
    # children have nothing left to do once the barrier is reached.
    super().__init__(extract_config, starts_pool=False)
    self._settings = (config['num_perm'], config['shingle_words'])

  def outputs(self, article):
    yield article  # no pool: dedup sketches it

  def work_group(self, articles, run: Callable[..., Any]):
    return run(bodies_keys, *self._settings, [a['body'] for a in articles])

  def emitted(self, article, keys):
    return [dict(article, **{schema.SKETCH_AHEAD: sketched_ahead(article['body'], keys)})]

  def failed(self, article, error) -> List[Any]:
    return [article]  # dedup sketches it
