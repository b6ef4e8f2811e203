"""Every newsbeam command shown in README.md and docs/ can be run as shown:
each Dataflow command builds its job offline as a dry run (the documented
flags, plus the dry-run ones), needing neither network nor credentials, so
none hangs looking up credentials; every Cloud Storage path they name is a
valid bucket name; and every command of an entry point parses with that
entry point's flags (synopses with [optional] parts are read as synopses)."""

import glob
import os
import re
import shlex

import pytest

from pipelines import backfill, ingest, stream, train_classifier
from pipelines.cli import check_beam_args
from tests.helpers import REPO_ROOT

DOCUMENTS = ['README.md'] + sorted(
  os.path.relpath(p, REPO_ROOT) for p in glob.glob(os.path.join(REPO_ROOT, 'docs', '**', '*.md'))
)
ENTRY_POINTS = {
  'ingest': ingest,
  'backfill': backfill,
  'stream': stream,
  'train_classifier': train_classifier,
}
# What the docs' shell variables stand for (docs/operations/dataflow.md).
VARIABLES = {'$P': 'my-project', '$R': 'europe-west1', '$B': 'my-bucket'}
_FENCE = re.compile(r'^( *)```([\w-]*)\n(.*?)^\1```', re.M | re.S)
_COMMAND = re.compile(r'^(?:\.venv/bin/)?python -m pipelines\.(\w+)\s(.*)$')
# gs://BUCKET/...: 3 to 63 lower-case letters, digits, dots, dashes and
# underscores, starting and ending with a letter or digit.
_BUCKET = re.compile(r'^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$')
DRY_RUN = ['--dry_run=True', '--no_auth', '--sdk_location', 'container']


def documented_commands():
  """(document, entry point, command line) of every `python -m pipelines.X`
  line in a fenced shell block, continuation lines joined."""
  found = []
  for document in DOCUMENTS:
    with open(os.path.join(REPO_ROOT, document), encoding='utf-8') as f:
      text = f.read()
    for fence in _FENCE.finditer(text):
      if fence.group(2) not in ('', 'bash', 'sh', 'shell'):
        continue
      for line in re.sub(r'\\\n\s*', ' ', fence.group(3)).splitlines():
        command = _COMMAND.match(line.split('  #')[0].strip())
        if command:
          found.append((document, command.group(1), command.group(2)))
  return found


COMMANDS = documented_commands()


def _words(command_line):
  for name, value in VARIABLES.items():
    command_line = command_line.replace(name, value)
  return shlex.split(command_line)


def _is_synopsis(command_line):
  return '[' in command_line


def test_the_docs_show_commands_of_every_entry_point():
  assert {entry for _, entry, _ in COMMANDS} == set(ENTRY_POINTS)
  assert any('DataflowRunner' in line for _, _, line in COMMANDS)


@pytest.mark.parametrize('document, entry, line', COMMANDS)
def test_every_cloud_storage_path_names_a_valid_bucket(document, entry, line):
  for path in re.findall(r'gs://[^\s"\']+', ' '.join(_words(line))):
    bucket = path[len('gs://') :].split('/')[0]
    assert _BUCKET.match(bucket), '%s: %s is not a valid bucket name' % (document, path)


@pytest.mark.parametrize('document, entry, line', [c for c in COMMANDS if not _is_synopsis(c[2])])
def test_every_command_parses_with_its_entry_points_flags(document, entry, line):
  module = ENTRY_POINTS[entry]
  known, beam_args = module.build_parser().parse_known_args(_words(line))
  check_beam_args(beam_args, module.build_parser())


DATAFLOW = [c for c in COMMANDS if 'DataflowRunner' in c[2] and not _is_synopsis(c[2])]


@pytest.mark.parametrize('document, entry, line', DATAFLOW)
def test_every_dataflow_command_builds_its_job_offline(
  document, entry, line, offline, tmp_path, monkeypatch
):
  args = _words(line)
  # The documented --setup_file ./setup.py, from a copy of the project's
  # root: the stager builds its sdist there.
  setup = [i for i, word in enumerate(args) if word == '--setup_file']
  for i in setup:
    args[i + 1] = os.path.join(REPO_ROOT, 'setup.py')
  monkeypatch.chdir(tmp_path)
  extra = [flag for flag in DRY_RUN if flag not in args]
  if '--sdk_location' in args:
    extra = [flag for flag in extra if flag != 'container']
  ENTRY_POINTS[entry].run(args + extra)
  assert offline == [], document
