"""The `newsbeam` command: one subcommand per entry point.

  newsbeam ingest --output out            # python -m pipelines.ingest
  newsbeam backfill --start D --end D ... # python -m pipelines.backfill
  newsbeam stream --feeds URL ...         # python -m pipelines.stream
  newsbeam train-classifier --data F ...  # python -m pipelines.train_classifier

Everything after the subcommand goes to that module's run(argv) unchanged
(its flags, and Beam's pipeline options). Also here: check_beam_args(), which
makes a flag that neither newsbeam nor Beam knows an error.
"""

import argparse
import difflib
import gc
import importlib
import logging
import os
import re
import sys
from typing import Iterable, List, Optional, Sequence

PROG = 'newsbeam'

# subcommand -> (module, one-line help)
COMMANDS = {
  'ingest': ('pipelines.ingest', 'batch ingestion: feeds and scraped pages -> article records'),
  'backfill': ('pipelines.backfill', 'date-partitioned backfill of archived inputs'),
  'stream': ('pipelines.stream', 'poll feeds continuously (or run the streaming graph)'),
  'train-classifier': ('pipelines.train_classifier', 'train the topic model on labelled articles'),
}


def version() -> str:
  """The installed package's version, else setup.py's (a source checkout)."""
  from importlib import metadata

  try:
    return metadata.version(PROG)
  except metadata.PackageNotFoundError:
    pass
  setup = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'setup.py')
  try:
    with open(setup, encoding='utf-8') as f:
      found = re.search(r'''version=['"]([^'"]+)['"]''', f.read())
  except OSError:
    found = None
  return found.group(1) if found else 'unknown'


def leave_to_exit() -> None:
  """Called by each command once its run has returned: the objects still
  alive then (Beam's modules and the run's graph, the topic model, the
  stages' caches; 300,000 and more) are left to the process's exit without
  the garbage collector's last passes over them, which took 0.6 to 0.9 s of
  wall time after every local run. Nothing is waiting on them: a run's
  outputs are written and published before it returns, and the exit still
  runs every atexit handler."""
  gc.freeze()


def _beam_parser():
  """An argument parser holding every registered Beam pipeline option."""
  from apache_beam.options.pipeline_options import PipelineOptions, _BeamArgumentParser

  classes, todo = {}, list(PipelineOptions.__subclasses__())
  while todo:
    cls = todo.pop()
    if str(cls) not in classes:
      classes[str(cls)] = cls
      todo.extend(cls.__subclasses__())
  parser = _BeamArgumentParser(allow_abbrev=False)
  for cls in classes.values():
    try:
      cls._add_argparse_args(parser)  # pylint: disable=protected-access
    except argparse.ArgumentError:
      pass  # a subclass re-adding its parent's options
  return parser


def _load_runner_options(beam_args: Sequence[str]) -> None:
  """Imports the runner --runner names, so the options its module defines
  (e.g. DaskOptions) are registered; best effort."""
  runner = None
  for i, arg in enumerate(beam_args):
    if arg == '--runner' and i + 1 < len(beam_args):
      runner = beam_args[i + 1]
    elif arg.startswith('--runner='):
      runner = arg.split('=', 1)[1]
  if not runner:
    return
  try:
    from apache_beam.runners.runner import create_runner

    create_runner(runner)
  except Exception:  # an unknown runner is Beam's to report
    pass


def unknown_args(beam_args: Sequence[str]) -> List[str]:
  """The arguments of `beam_args` (what newsbeam's own parser left) that no
  Beam pipeline option takes."""
  _load_runner_options(beam_args)
  _, unknown = _beam_parser().parse_known_args(list(beam_args))
  return unknown


def check_beam_args(
  beam_args: Sequence[str], parser: Optional[argparse.ArgumentParser] = None
) -> None:
  """Raises SystemExit naming the first argument that is neither one of
  newsbeam's flags (`parser`, which already took its own) nor a Beam
  pipeline option, with the nearest known flag: Beam itself would drop it
  with at most a log line."""
  unknown = unknown_args(beam_args)
  if not unknown:
    return
  flags = [a for a in unknown if a.startswith('-')]
  if not flags:
    raise SystemExit('%s: unexpected argument %r' % (PROG, unknown[0]))
  flag = flags[0].split('=', 1)[0]
  known = _option_strings(_beam_parser())
  own = _option_strings(parser) if parser is not None else []
  close = difflib.get_close_matches(flag, own, n=1) or difflib.get_close_matches(flag, known, n=1)
  raise SystemExit(
    '%s: unknown option %s%s'
    % (PROG, flag, ' (did you mean %s?)' % close[0] if close else ' (see --help)')
  )


def _option_strings(parser: argparse.ArgumentParser) -> List[str]:
  return [
    option
    for action in parser._actions  # pylint: disable=protected-access
    for option in action.option_strings
    if option.startswith('--')
  ]


def _parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
    prog=PROG,
    description='newsbeam: feeds and scraped pages to clean, deduplicated, classified news '
    'article records, on Apache Beam. Each command takes its own flags (COMMAND --help) '
    'and Beam\'s pipeline options.',
  )
  parser.add_argument('--version', action='version', version='%s %s' % (PROG, version()))
  commands = parser.add_subparsers(dest='command', metavar='COMMAND', title='commands')
  for name, (_, text) in COMMANDS.items():
    commands.add_parser(name, help=text, add_help=False)
  return parser


def _configure_logging(command: str) -> None:
  """As each module's `python -m` entry sets it."""
  if command == 'ingest':
    logging.basicConfig(
      level=logging.WARNING, format='%(asctime)s %(levelname)s %(name)s: %(message)s'
    )
    # newsbeam's own progress lines (extract.progress_seconds) are INFO.
    logging.getLogger('newsbeam').setLevel(logging.INFO)
  elif command in ('backfill', 'stream'):
    logging.getLogger().setLevel(logging.WARNING)


def main(argv: Optional[Iterable[str]] = None) -> int:
  argv = list(sys.argv[1:] if argv is None else argv)
  parser = _parser()
  known, rest = parser.parse_known_args(argv)
  if known.command is None:
    if rest:
      parser.error('unknown option %s' % rest[0])
    parser.print_help()
    return 2
  if known.command == 'ingest':
    # As `python -m pipelines.ingest` does: the pool's fork server first,
    # before Beam's import (pipelines/pool_ahead.py).
    from pipelines.pool_ahead import start_pool_ahead

    start_pool_ahead(rest)
  module = importlib.import_module(COMMANDS[known.command][0])
  _configure_logging(known.command)
  # The command's own --help and usage lines read `newsbeam COMMAND`.
  program = sys.argv[0]
  sys.argv[0] = '%s %s' % (PROG, known.command)
  try:
    module.run(rest)
  finally:
    sys.argv[0] = program
  leave_to_exit()
  return 0


if __name__ == '__main__':
  sys.exit(main())
