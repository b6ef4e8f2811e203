"""A stage's failures become dead letters in one format, whichever stage."""

import apache_beam as beam

from transforms import schema
from transforms.dead_letters import RecordStageFn, truncated


class _Halve(RecordStageFn):
  STAGE = 'halve'

  def outputs(self, record):
    if not record.get('body'):
      raise ValueError('no body')
    yield dict(record, body=record['body'][: len(record['body']) // 2])
    yield beam.pvalue.TaggedOutput(schema.REJECTED, record)


def test_a_record_the_stage_raises_on_is_its_dead_letter_alone():
  record = schema.new_article(url='https://n.example/a', feed_url='https://n.example/feed')
  (out,) = _Halve().process(record)
  assert out.tag == schema.DEAD_LETTER
  assert out.value == {
    'url': 'https://n.example/a',
    'feed_url': 'https://n.example/feed',
    'stage': 'halve',
    'error': 'ValueError: no body',
    'raw': schema.ordered(record),
  }


def test_a_record_the_stage_handles_gives_all_its_outputs():
  record = schema.new_article(url='https://n.example/a', body='abcd')
  good, rejected = _Halve().process(record)
  assert good['body'] == 'ab' and rejected.tag == schema.REJECTED


def test_raw_inputs_are_cut_and_say_so():
  assert truncated('abc', 2) == 'ab…[truncated]' and truncated('ab', 2) == 'ab'
