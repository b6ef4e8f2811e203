"""Beam's look-up of a DoFn's state and timer specs, memoized per kind of
DoFn (transforms/dofn_specs.py): the same answer as Beam's own for every
DoFn of newsbeam's graphs and for DoFns whose instances change it, and the
entry points name it as a plugin for workers of their own."""

import apache_beam as beam
import pytest
from apache_beam.coders import PickleCoder, VarIntCoder
from apache_beam.internal import pickler
from apache_beam.transforms import userstate
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import (
  BagStateSpec,
  ReadModifyWriteStateSpec,
  TimerSpec,
  on_timer,
)

from pipelines import ingest
from transforms import dofn_specs
from transforms.dedup.streams import StreamDeduplicate

# Beam's own look-up, whether or not this process installed the memo.
BEAMS = getattr(userstate.get_dofn_specs, 'memoizes', userstate.get_dofn_specs)


def named(specs):
  """Specs by kind and name (a copy a worker unpickled holds its own)."""
  states, timers = specs
  return (
    sorted((type(s).__name__, s.name) for s in states),
    sorted((type(t).__name__, t.name) for t in timers),
  )


class _Buffered(beam.DoFn):
  BUFFER = BagStateSpec('buffer', PickleCoder())
  COUNT = ReadModifyWriteStateSpec('count', VarIntCoder())
  FLUSH = TimerSpec('flush', TimeDomain.WATERMARK)

  def process(
    self,
    element,
    buffer=beam.DoFn.StateParam(BUFFER),
    count=beam.DoFn.StateParam(COUNT),
    flush=beam.DoFn.TimerParam(FLUSH),
  ):
    buffer.add(element)

  @on_timer(FLUSH)
  def flushed(self, buffer=beam.DoFn.StateParam(BUFFER)):
    yield from buffer.read()


class _Plain(beam.DoFn):
  def process(self, element):
    yield element


class _Counter:
  """A method with a state parameter, set on a DoFn instance."""

  SEEN = ReadModifyWriteStateSpec('seen', VarIntCoder())

  def count(self, element, seen=beam.DoFn.StateParam(SEEN)):
    return element


def pardo_fns(pipeline):
  """The DoFn of each ParDo of a built graph."""
  found = []

  class Visitor(beam.pipeline.PipelineVisitor):
    def visit_transform(self, node):
      if isinstance(node.transform, beam.ParDo):
        found.append(node.transform.fn)

  pipeline.visit(Visitor())
  return found


def graph_dofns():
  """Every DoFn of the batch graph (with a published-records index) and
  of a stream's stateful dedup, as built."""
  pipeline = beam.Pipeline()
  from configs.loading import load_config

  config = load_config()
  ingest.build_pipeline(
    pipeline, config, [], ['/nowhere/*.jsonl'], '/nowhere/out', 50, index='/nowhere/index'
  )
  _ = (
    pipeline
    | 'StreamArticles' >> beam.Create([{'id': 'a', 'url': 'https://a.example/1', 'body': 'x'}])
    | 'StreamDedup' >> StreamDeduplicate(config['dedup'])
  )
  return pardo_fns(pipeline)


def test_every_dofn_of_the_graphs_gets_beams_answer_and_copies_share_it():
  memo = dofn_specs.memoized(BEAMS)
  dofns = graph_dofns()
  assert len(dofns) > 60
  stateful = 0
  for dofn in dofns:
    expected = named(BEAMS(dofn))
    stateful += bool(expected[0] or expected[1])
    assert named(memo(dofn)) == expected, dofn
    copy = pickler.loads(pickler.dumps(dofn))  # as a worker holds it
    assert named(memo(copy)) == named(BEAMS(copy)) == expected, dofn
  assert stateful >= 3  # the stream's dedup keeps state and timers


@pytest.mark.parametrize('first', ['stateful', 'plain'])
def test_kinds_never_share_an_answer(first):
  memo = dofn_specs.memoized(BEAMS)
  dofns = {'stateful': _Buffered(), 'plain': _Plain()}
  order = [first] + [k for k in dofns if k != first]
  answers = {kind: named(memo(dofns[kind])) for kind in order}
  assert answers['stateful'] == (
    [('BagStateSpec', 'buffer'), ('ReadModifyWriteStateSpec', 'count')],
    [('TimerSpec', 'ts-flush')],
  )
  assert answers['plain'] == ([], [])
  # A second look-up of each is the memo's, and equal.
  assert {kind: named(memo(dofns[kind])) for kind in order} == answers


def test_methods_an_instance_sets_on_itself_decide_its_answer():
  memo = dofn_specs.memoized(BEAMS)
  counting = _Plain()
  counting.count = _Counter().count  # Beam reads the bound method's parameters
  for dofn in (_Plain(), counting, _Plain(), counting):
    assert named(memo(dofn)) == named(BEAMS(dofn))
  assert named(memo(counting)) == ([('ReadModifyWriteStateSpec', 'seen')], [])
  assert named(memo(_Plain())) == ([], [])
  # A Map's function is its process, set on the instance.
  maps = [beam.Map(_Counter().count).fn, beam.Map(lambda element: element).fn, beam.Map(len).fn]
  assert len({type(fn) for fn in maps}) == 1
  for dofn in maps + maps:
    assert named(memo(dofn)) == named(BEAMS(dofn))


def test_a_method_an_instance_hides_is_part_of_the_key():
  memo = dofn_specs.memoized(BEAMS)
  hidden = _Buffered()
  hidden.flushed = None  # Beam no longer sees the timer callback's parameter
  for dofn in (_Buffered(), hidden, _Buffered(), hidden):
    assert named(memo(dofn)) == named(BEAMS(dofn))
  assert dofn_specs.specs_key(hidden) != dofn_specs.specs_key(_Buffered())


def test_wrappers_that_hand_on_attributes_are_asked_every_time():
  pipeline = beam.Pipeline()
  _ = pipeline | beam.Create([1]) | beam.ParDo(_Plain()).with_exception_handling()
  wrappers = [
    fn for fn in pardo_fns(pipeline) if type(fn).__name__ == '_ExceptionHandlingWrapperDoFn'
  ]
  assert wrappers and all(dofn_specs.specs_key(fn) is None for fn in wrappers)
  memo = dofn_specs.memoized(BEAMS)
  assert all(named(memo(fn)) == named(BEAMS(fn)) for fn in wrappers)


def test_the_memo_is_installed_once_and_named_as_a_plugin():
  assert getattr(userstate.get_dofn_specs, 'memoizes', None) is BEAMS
  dofn_specs.memoize_dofn_specs()
  assert userstate.get_dofn_specs.memoizes is BEAMS  # not a memo of the memo
  launched = ingest.launch(
    ingest.build_parser(),
    ['--output', '/nowhere/out', '--beam_plugins', 'my.plugin', '--beam_plugins', 'other'],
  )
  from apache_beam.options.pipeline_options import SetupOptions

  assert launched.options.view_as(SetupOptions).beam_plugins == [
    'my.plugin',
    'other',
    'transforms.dofn_specs',
  ]
