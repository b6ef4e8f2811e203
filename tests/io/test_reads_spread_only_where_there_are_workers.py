"""Reads are spread over the workers (a Reshuffle after each) only where
there are workers to spread to: a run whose one worker is the launcher's
own process reads straight into the next steps, and reads the same
records."""

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from configs.loading import load_config
from pipelines.ingest import one_worker_here
from tests.helpers import write_jsonl
from transforms.fetch.client import FetchOptions
from transforms.io.inputs import ReadInputs


@pytest.mark.parametrize(
  'flags, here',
  [
    ([], True),
    (['--runner', 'DirectRunner', '--direct_running_mode', 'in_memory'], True),
    (['--direct_num_workers', '2'], False),
    (['--direct_running_mode', 'multi_processing', '--direct_num_workers', '2'], False),
    (['--direct_running_mode', 'multi_threading'], False),
    (['--runner', 'DataflowRunner'], False),
  ],
)
def test_which_runs_have_their_one_worker_here(flags, here):
  assert one_worker_here(PipelineOptions(flags)) is here


def reshuffles(pipeline):
  found = []

  class Visitor(beam.pipeline.PipelineVisitor):
    def enter_composite_transform(self, node):
      if isinstance(node.transform, beam.Reshuffle):
        found.append(node.full_label)

  pipeline.visit(Visitor())
  return found


@pytest.mark.parametrize('spread', [True, False])
def test_the_same_pages_spread_or_not(tmp_path, spread):
  config = load_config()
  records = [
    {'url': 'https://news.example/%d' % i, 'html': '<p>Story %d</p>' % i} for i in range(30)
  ]
  path = tmp_path / 'pages.jsonl'
  write_jsonl(str(path), records)
  with TestPipeline() as p:
    read = p | ReadInputs(
      [], [str(path)], config['read'], FetchOptions(config['fetch']), spread=spread
    )
    assert_that(
      read.pages | beam.Map(lambda page: page['url']), equal_to([r['url'] for r in records])
    )
    assert_that(read.dead_letter, equal_to([]), label='NoDeadLetters')
    steps = reshuffles(p)
  assert bool(steps) is spread
  if spread:
    assert sorted(label.rsplit('/', 1)[-1] for label in steps) == ['SpreadFiles', 'SpreadSpans']
