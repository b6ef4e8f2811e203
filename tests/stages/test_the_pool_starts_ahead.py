"""A local run starts its pool's fork server before the first page: the
server loads what every child would otherwise load for itself (the
libraries extraction imports, dateparser's compiled patterns, lingua's
fast-mode models), and each child forked from it starts with them. A run
with no pages to extract starts nothing ahead."""

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

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def what_the_child_has():
  """Run in a child of the pool: what it found loaded when it started."""
  from dateparser.languages.dictionary import Dictionary

  return {
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
      from transforms.worker_pool import start_pool_early, worker_pool

      extract = load_config()['extract']
      started = start_pool_early(extract)
      server = forkserver._forkserver._forkserver_pid
      pool = worker_pool(extract)
      found = pool(what_the_child_has)
      pool.release()
      print(json.dumps(dict(found, started=started, server=server)))
      """
    )
  )
  done = subprocess.run(
    [sys.executable, str(script)],
    capture_output=True,
    text=True,
    cwd=ROOT,
    env=dict(os.environ, PYTHONPATH=ROOT),
  )
  assert done.returncode == 0, done.stderr
  found = json.loads(done.stdout.strip().splitlines()[-1])
  assert found['started']
  assert found['parent'] == found['server']  # forked from the server started ahead
  assert found['preloaded']
  # dateparser's patterns for its locales (hundreds), compiled in the server.
  assert found['dateparser_locales_compiled'] > 100


def test_a_run_without_a_time_budget_starts_nothing_ahead():
  from transforms.worker_pool import start_pool_early

  assert not start_pool_early({'timeout_seconds': 0, 'processes': 0})


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
