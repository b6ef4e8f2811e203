"""The `newsbeam` console script (pipelines.cli) and the check that makes a
flag neither newsbeam nor Beam knows an error."""

import gc
import json
import os
import subprocess
import sys

import pytest

from pipelines import backfill, cli, ingest, stream

SCRIPT = os.path.join(os.path.dirname(sys.executable), 'newsbeam')
needs_script = pytest.mark.skipif(
  not os.path.exists(SCRIPT), reason='the newsbeam script is not installed (pip install -e .)'
)


@pytest.fixture(autouse=True)
def collector_back():
  """A command leaves what it made to the exit (``cli.leave_to_exit``);
  the test process goes on collecting it."""
  yield
  gc.unfreeze()


def _newsbeam(*args, **kwargs):
  return subprocess.run(
    [SCRIPT, *args], capture_output=True, text=True, timeout=300, check=False, **kwargs
  )


@needs_script
def test_ingest_subcommand_runs_the_bundled_sample(tmp_path):
  output = tmp_path / 'out'
  done = _newsbeam('ingest', '--output', str(output))
  assert done.returncode == 0, done.stderr
  with open(output / 'summary.json', encoding='utf-8') as f:
    outputs = json.load(f)['outputs']
  assert (
    outputs['articles'],
    outputs['duplicates'],
    outputs['rejected'],
    outputs['dead_letter'],
  ) == (7, 2, 1, 3)
  assert 'articles: 7' in done.stdout


@needs_script
def test_version_and_help():
  done = _newsbeam('--version')
  assert done.returncode == 0
  assert done.stdout.strip() == 'newsbeam %s' % cli.version()
  assert cli.version() != 'unknown'
  done = _newsbeam('--help')
  assert done.returncode == 0
  for command in ('ingest', 'backfill', 'stream', 'train-classifier'):
    assert command in done.stdout


@needs_script
def test_a_misspelt_flag_fails_before_the_pipeline_runs(tmp_path):
  done = _newsbeam('ingest', '--min-wrods', '10', '--output', str(tmp_path / 'out'))
  assert done.returncode != 0
  assert 'newsbeam: unknown option --min-wrods (did you mean --min-words?)' in done.stderr
  assert not (tmp_path / 'out').exists()


def test_main_hands_the_rest_of_argv_to_the_command(monkeypatch):
  seen = {}
  monkeypatch.setattr(backfill, 'run', lambda argv: seen.setdefault('backfill', argv))
  monkeypatch.setattr(stream, 'run', lambda argv: seen.setdefault('stream', argv))
  from pipelines import train_classifier

  monkeypatch.setattr(train_classifier, 'run', lambda argv: seen.setdefault('train', argv))
  assert cli.main(['backfill', '--start', '2022-04-01', '--help']) == 0
  assert cli.main(['stream', '--version', '--runner=DirectRunner']) == 0
  assert cli.main(['train-classifier', '--data', 'x.jsonl']) == 0
  assert seen == {
    'backfill': ['--start', '2022-04-01', '--help'],
    'stream': ['--version', '--runner=DirectRunner'],
    'train': ['--data', 'x.jsonl'],
  }


def test_a_command_that_ran_leaves_what_it_made_to_the_exit(monkeypatch):
  # What the run left alive is not gone over by the collector at exit.
  monkeypatch.setattr(backfill, 'run', lambda argv: None)
  gc.unfreeze()
  assert gc.get_freeze_count() == 0
  assert cli.main(['backfill', '--start', '2022-04-01']) == 0
  assert gc.get_freeze_count() > 0


def test_an_unknown_command_is_an_error(capsys):
  with pytest.raises(SystemExit) as exit:
    cli.main(['ingset'])
  assert exit.value.code == 2
  assert 'invalid choice' in capsys.readouterr().err


@pytest.mark.parametrize(
  'args',
  [
    [],
    ['--runner', 'DirectRunner', '--direct_num_workers=2'],
    ['--direct_running_mode=multi_processing', '--experiments', 'a', '--experiments=b'],
    ['--project', 'p', '--region', 'r', '--temp_location', 'gs://b/t', '--no_auth'],
    ['--dry_run=True', '--sdk_location', 'container', '--setup_file', './setup.py'],
    ['--streaming', '--job_name', 'j'],
  ],
)
def test_beam_options_pass(args):
  cli.check_beam_args(args)


@pytest.mark.parametrize(
  'args, message',
  [
    (['--min-wrods', '10'], 'unknown option --min-wrods (did you mean --min-words?)'),
    (['--temp-location=gs://b'], 'unknown option --temp-location (did you mean --temp_location?)'),
    (['--runner', 'DirectRunner', '--direct_num_worker=2'], 'did you mean --direct_num_workers?'),
    (['--zzzzzz'], 'unknown option --zzzzzz (see --help)'),
    (['stray'], "unexpected argument 'stray'"),
  ],
)
def test_unknown_flags_are_errors(args, message):
  with pytest.raises(SystemExit) as exit:
    cli.check_beam_args(args, ingest.build_parser())
  assert message in str(exit.value)
  assert str(exit.value).startswith('newsbeam: ')


@pytest.mark.parametrize('module', [ingest, backfill, stream])
def test_each_entry_point_checks_its_leftover_flags(module, tmp_path):
  required = ['--output', str(tmp_path / 'out')]
  if module is backfill:
    required += ['--start', '2022-04-01', '--end', '2022-04-01', '--input-root', str(tmp_path)]
  with pytest.raises(SystemExit, match='unknown option --min-wrods'):
    module.run(['--min-wrods', '10', *required])
  assert not (tmp_path / 'out').exists()


def test_version_falls_back_to_setup_py(monkeypatch):
  from importlib import metadata

  def missing(name):
    raise metadata.PackageNotFoundError(name)

  monkeypatch.setattr(metadata, 'version', missing)
  root = os.path.dirname(os.path.dirname(os.path.abspath(cli.__file__)))
  with open(os.path.join(root, 'setup.py'), encoding='utf-8') as f:
    assert "version='%s'" % cli.version() in f.read()


def test_python_m_pipelines_cli_works_too():
  done = subprocess.run(
    [sys.executable, '-m', 'pipelines.cli', '--version'],
    capture_output=True,
    text=True,
    timeout=120,
    check=False,
  )
  assert done.returncode == 0, done.stderr
  assert done.stdout.startswith('newsbeam ')
