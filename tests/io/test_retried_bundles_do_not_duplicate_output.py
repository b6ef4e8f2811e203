"""Faults: a bundle retried after a failure must not duplicate output, and a
rerun of the same input gives the same output set.

What the runners do (Beam 2.77, read in their code and shown here): the
BundleBasedDirectRunner retries a failed bundle (up to 4 attempts) and keeps
only the outputs of the attempt that succeeded; the FnApiRunner (the
DirectRunner's batch default) does not retry: the run fails, and nothing is
finalized. Dataflow retries bundles like the former. newsbeam's file sinks
write temporary files and finalize them once, so a retry never duplicates a
record, and a rerun replaces the previous run's files.
"""

import json
import os

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from configs.loading import load_config
from pipelines import ingest
from tests.helpers import read_outputs
from transforms import schema
from transforms.extract import ExtractArticles
from transforms.io.inputs import ReadInputs
from transforms.io.sinks import WriteOutputs


class FailOnceFor(beam.DoFn):
  """Raises the first time it meets the page with `url` (a marker file
  remembers across attempts, processes and threads), like a worker lost
  mid-bundle; passes everything through otherwise."""

  def __init__(self, url, marker):
    self._url = url
    self._marker = marker

  def process(self, record):
    if record.get('url') == self._url and not os.path.exists(self._marker):
      with open(self._marker, 'w') as f:
        f.write('failed once')
      raise RuntimeError('worker lost (injected fault)')
    yield record


def _story(n):
  return ' '.join(
    'Council meeting %d heard that route %d buses will run every '
    '%d minutes from the new depot.' % (n, n * 7 + i, i + 5)
    for i in range(8)
  )


@pytest.fixture
def scraped(tmp_path):
  path = tmp_path / 'pages.jsonl'
  records = [{'url': 'https://city.example/%d' % n, 'text': _story(n)} for n in range(6)]
  path.write_text('\n'.join(json.dumps(r) for r in records) + '\n{bad\n')
  return str(path), len(records) + 1


def _read(output):
  """Each output's lines as written, in a stable order."""
  return read_outputs(output, summary=False, sort=True, lines=True)


def _run_with_fault(scraped_glob, output, marker, runner):
  config = load_config()
  options = PipelineOptions(['--runner', runner])
  with beam.Pipeline(options=options) as p:
    pages, dead, *_ = p | ReadInputs([], [scraped_glob], config['read'])
    extracted = pages | ExtractArticles(dict(config['extract'], timeout_seconds=0))
    flaky = extracted.articles | beam.ParDo(FailOnceFor('https://city.example/3', marker))
    {
      schema.ARTICLES: flaky,
      schema.DUPLICATES: p | 'NoDup' >> beam.Create([]),
      schema.REJECTED: extracted.rejected,
      schema.DEAD_LETTER: (dead, extracted.dead_letter) | beam.Flatten(),
    } | WriteOutputs(output)


def test_a_retried_bundle_does_not_duplicate_output(scraped, tmp_path):
  pages, n_inputs = scraped
  marker = str(tmp_path / 'failed-once')
  output = str(tmp_path / 'out')
  _run_with_fault(pages, output, marker, 'BundleBasedDirectRunner')
  assert os.path.exists(marker)  # the fault happened, and the run went on
  out = _read(output)
  urls = [json.loads(line)['url'] for line in out[schema.ARTICLES]]
  assert sorted(urls) == sorted('https://city.example/%d' % n for n in range(6))
  assert sum(len(lines) for lines in out.values()) == n_inputs
  with open(os.path.join(output, 'summary.json'), encoding='utf-8') as f:
    assert json.load(f)['total'] == n_inputs


def test_without_retries_a_fault_fails_the_run_and_a_rerun_is_whole(scraped, tmp_path):
  pages, n_inputs = scraped
  marker = str(tmp_path / 'failed-once')
  output = str(tmp_path / 'out')
  clean = str(tmp_path / 'clean')
  # A clean run: its marker says the fault already happened.
  with open(marker + '-clean', 'w'):
    pass
  _run_with_fault(pages, clean, marker + '-clean', 'DirectRunner')
  with pytest.raises(Exception, match='injected fault'):
    _run_with_fault(pages, output, marker, 'DirectRunner')
  # The same input again, into the same output: the same records as the
  # clean run, once each.
  _run_with_fault(pages, output, marker, 'DirectRunner')
  assert _read(output) == _read(clean)
  assert sum(len(lines) for lines in _read(output).values()) == n_inputs


def test_rerunning_the_same_input_gives_the_same_output_set(scraped, tmp_path):
  pages, n_inputs = scraped
  output = str(tmp_path / 'out')
  ingest.run(['--scraped', pages, '--output', output])
  first = _read(output)
  ingest.run(['--scraped', pages, '--output', output])
  second = _read(output)
  assert first == second
  assert sum(len(lines) for lines in second.values()) == n_inputs


def test_stale_part_removal_never_deletes_when_the_runner_reports_nothing(tmp_path):
  # The BundleBasedDirectRunner reports no written files: removing every
  # part file "not written" deleted the run's whole output.
  from transforms.io.sinks import remove_stale_parts

  folder = tmp_path / 'articles'
  folder.mkdir()
  for name in ('part-00000-of-00002.jsonl', 'part-00001-of-00002.jsonl'):
    (folder / name).write_text('{}\n')
  assert remove_stale_parts([], str(folder)) == 0
  assert len(os.listdir(folder)) == 2
  kept = str(folder / 'part-00000-of-00002.jsonl')
  assert remove_stale_parts([kept], str(folder)) == 1
  assert os.listdir(folder) == ['part-00000-of-00002.jsonl']
