"""Dead letters: what a stage could not turn into a record, kept with why.

The record itself is ``schema.dead_letter`` (or ``schema.stage_failure``
for a record a stage raised on); this module holds what the stages share to
emit them, so that every stage does it the same way.
"""

from typing import Any, Dict, Iterable

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms import schema

# How much of an input a dead letter keeps as `raw`.
RAW_LIMIT = 100000


def truncated(text: str, limit: int = RAW_LIMIT) -> str:
  """An input as a dead letter keeps it: cut to ``limit`` characters."""
  return text if len(text) <= limit else text[:limit] + '…[truncated]'


class RecordStageFn(beam.DoFn):
  """A stage's per-record DoFn whose failures are dead letters.

  A subclass names its ``STAGE`` and implements ``outputs(record, ...)``;
  what that raises on a record becomes the record's dead letter (tagged
  ``schema.DEAD_LETTER``, counted as `<stage>/failed`) instead of failing
  the bundle, and none of the record's outputs are emitted.
  ``dead_letter(record, error)`` says what the dead letter holds: by
  default the record as built so far (``schema.stage_failure``).

  Beam's ``with_exception_handling()`` splits good from bad the same way,
  but hands on ``repr(error)`` and a formatted traceback, not the error:
  the dead letter's `error` ("ValueError: no body") could not be written
  as it always has been.
  """

  STAGE = ''

  def __init__(self):
    self._failed = Metrics.counter(self.STAGE, 'failed')

  def outputs(self, record: Dict[str, Any], *args, **kwargs) -> Iterable[Any]:
    raise NotImplementedError

  def dead_letter(self, record: Dict[str, Any], error: Exception) -> Dict[str, Any]:
    self._failed.inc()
    return schema.stage_failure(self.STAGE, error, record)

  def process(self, record, *args, **kwargs):
    try:
      outputs = list(self.outputs(record, *args, **kwargs))
    except Exception as e:
      yield beam.pvalue.TaggedOutput(schema.DEAD_LETTER, self.dead_letter(record, e))
      return
    yield from outputs
