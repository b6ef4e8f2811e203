"""A local run starts its pool's fork server before the first page, and
`python -m pipelines.ingest` before it imports Beam: the server loads what
every child would otherwise load for itself (the libraries extraction
imports, dateparser's compiled patterns, lingua's fast-mode models, the
topic model the language child scores with), and each child forked from it
starts with them. A run with no pages to extract starts nothing ahead."""

import argparse
import gzip
import json
import os
import subprocess
import sys
import textwrap

from apache_beam.options.pipeline_options import PipelineOptions

from configs.loading import load_config
from pipelines.ingest import reads_pages, start_local_pool
from pipelines.pool_ahead import pool_config_ahead
from transforms.topics.articles import topic_model_path

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def script_result(script, *args):
  """What a script run in a fresh process printed last, as JSON (this
  test's own process may have a fork server already)."""
  done = subprocess.run(
    [sys.executable, str(script), *args],
    capture_output=True,
    text=True,
    cwd=ROOT,
    env=dict(os.environ, PYTHONPATH=ROOT),
  )
  assert done.returncode == 0, done.stderr
  return json.loads(done.stdout.strip().splitlines()[-1])


def what_the_child_has():
  """Run in a child of the pool: what it found loaded when it started."""
  from dateparser.languages.dictionary import Dictionary

  from transforms.topics import articles

  return {
    'topic_models': sorted(articles._LOADED),
    'preloaded': 'transforms.pool_preload' in sys.modules,
    'dateparser_locales_compiled': sum(len(v) for v in Dictionary._split_regex_cache.values()),
    'parent': os.getppid(),
  }


def test_children_start_with_what_the_fork_server_loaded_ahead(tmp_path):
  # A fresh process: this test's own process may have a fork server already.
  script = tmp_path / 'run.py'
  script.write_text(
    textwrap.dedent(
      """
      import json, multiprocessing.forkserver as forkserver
      from configs.loading import load_config
      from tests.stages.test_the_pool_starts_ahead import what_the_child_has
      from transforms.pool_modules import start_pool_early
      from transforms.worker_pool import worker_pool

      config = load_config()
      extract = config['extract']
      started = start_pool_early(config)
      server = forkserver._forkserver._forkserver_pid
      pool = worker_pool(extract)
      found = pool(what_the_child_has)
      pool.release()
      print(json.dumps(dict(found, started=started, server=server)))
      """
    )
  )
  found = script_result(script)
  assert found['started']
  assert found['parent'] == found['server']  # forked from the server started ahead
  assert found['preloaded']
  # dateparser's patterns for its locales (hundreds), compiled in the server.
  assert found['dateparser_locales_compiled'] > 100
  assert found['topic_models'] == [topic_model_path(load_config()['classify'])]


def test_a_run_without_a_time_budget_starts_nothing_ahead():
  from transforms.pool_modules import start_pool_early

  config = load_config()
  assert not start_pool_early(dict(config, extract=dict(config['extract'], timeout_seconds=0)))


def flags(**given):
  known = dict(warc=None, sitemaps=None)
  known.update(given)
  return argparse.Namespace(**known)


def write(path, records):
  with gzip.open(path, 'wt') if str(path).endswith('.gz') else open(path, 'w') as f:
    for record in records:
      f.write(json.dumps(record) + '\n')
  return str(path)


def test_pages_to_extract_are_told_from_the_inputs(tmp_path):
  html = write(tmp_path / 'pages.jsonl.gz', [{'url': 'https://a.example/1', 'html': '<p>x</p>'}])
  text = write(tmp_path / 'text.jsonl', [{'url': 'https://a.example/2', 'text': 'Plain text.'}])
  assert reads_pages(flags(), [], [html])
  spaced = tmp_path / 'spaced.jsonl'
  spaced.write_text('\n\n' + json.dumps({'url': 'https://a.example/3', 'html': '<p>x</p>'}) + '\n')
  assert reads_pages(flags(), [], [str(spaced)])  # blank lines first, as the reader skips them
  assert not reads_pages(flags(), [], [text])
  assert reads_pages(flags(), ['feeds/*.xml'], [text])
  assert reads_pages(flags(warc=['a.warc.gz']), [], [])
  assert reads_pages(flags(sitemaps=['https://a.example/sitemap.xml']), [], [])
  # Not read from here: counted as pages, which only starts the server early.
  assert reads_pages(flags(), [], ['gs://bucket/pages/*.jsonl.gz'])
  assert reads_pages(flags(), [], [str(tmp_path / 'none-*.jsonl')])


def test_only_a_local_run_whose_workers_are_this_process_starts_ahead(tmp_path):
  text = write(tmp_path / 'text.jsonl', [{'url': 'https://a.example/2', 'text': 'Plain text.'}])
  config = load_config()
  for beam_flags in (
    ['--runner=DataflowRunner'],
    ['--dry_run=True'],
    ['--direct_num_workers=2', '--direct_running_mode=multi_processing'],
  ):
    assert not start_local_pool(PipelineOptions(beam_flags), config, flags(), ['f.xml'], [])
  # A local run of plain text: no page, no server.
  assert not start_local_pool(PipelineOptions([]), config, flags(), [], [text])


def test_the_launcher_tells_before_beams_import_whether_the_run_extracts_here(tmp_path):
  html = write(tmp_path / 'pages.jsonl.gz', [{'url': 'https://a.example/1', 'html': '<p>x</p>'}])
  text = write(tmp_path / 'text.jsonl', [{'url': 'https://a.example/2', 'text': 'Plain text.'}])
  no_budget = tmp_path / 'no-budget.yaml'
  no_budget.write_text('extract:\n  timeout_seconds: 0\n')
  broken = tmp_path / 'broken.yaml'
  broken.write_text('extract:\n  timeout_seconds: soon\n')
  run = ['--scraped', html, '--output', str(tmp_path / 'out')]
  assert pool_config_ahead(run) == load_config()
  assert pool_config_ahead(run + ['--direct_running_mode=multi_threading'])
  assert pool_config_ahead(['--warc', 'a.warc.gz', '--output', 'out'])
  assert pool_config_ahead(['--output', 'out'])  # the config's inputs: the sample's feeds
  for not_here in (
    ['--scraped', text, '--output', 'out'],
    run + ['--runner=DataflowRunner'],
    run + ['--runner', 'DataflowRunner'],
    run + ['--direct_running_mode=multi_processing', '--direct_num_workers=2'],
    run + ['--dry_run=True'],
    run + ['--template_location=gs://b/t'],
    run + ['--config', str(no_budget)],
    run + ['--config', str(broken)],  # the run reports it
    run + ['--help'],
  ):
    assert pool_config_ahead(not_here) is None, not_here


def test_python_m_pipelines_ingest_starts_the_server_before_beams_import(tmp_path):
  # The launcher's own modules when the server started: no Beam among them.
  script = tmp_path / 'launch.py'
  script.write_text(
    textwrap.dedent(
      """
      import json, sys
      from multiprocessing import forkserver
      from pipelines import pool_ahead

      started = pool_ahead.start_pool_ahead(sys.argv[1:])
      print(json.dumps({
        'started': started,
        'server': forkserver._forkserver._forkserver_pid is not None,
        'beam_imported': 'apache_beam' in sys.modules,
      }))
      """
    )
  )
  html = write(tmp_path / 'pages.jsonl', [{'url': 'https://a.example/1', 'html': '<p>x</p>'}])
  found = script_result(script, '--scraped', html, '--output', str(tmp_path / 'out'))
  assert found == {'started': True, 'server': True, 'beam_imported': False}
