"""newsbeam batch ingestion: feeds and scraped pages -> clean article records.

Reads RSS/Atom feeds and JSON Lines files of scraped pages, extracts and
cleans the article text, detects its language (cutting fragments in another
language or script), removes exact and near duplicates, classifies topics
(IPTC Media Topics), and writes articles/, duplicates/, rejected/,
dead_letter/ and summary.json under --output.

Locally, on the bundled sample (the config's inputs):

  python -m pipelines.ingest --output output

On your own inputs (pages are extracted in a pool of one child per core,
so the default engine uses every core; the DirectRunner's multi_processing
mode, a pool per worker, took 25 to 38% longer on 600 pages):

  python -m pipelines.ingest --feeds 'feeds/*.xml' --scraped 'pages/*.jsonl.gz' \\
      --output out

Live feeds, with the pages their entries link to, polled with conditional
GET (the feeds' ETag/Last-Modified kept in --fetch-state between runs):

  python -m pipelines.ingest --feeds https://news.example/rss --fetch-articles \\
      --fetch-state state/fetch_state.json --output out/run-0001

Web archives (CC-NEWS WARC files) and the pages sites list in sitemaps:

  python -m pipelines.ingest --warc 'archives/*.warc.gz' \\
      --sitemaps https://news.example/ --output out
On Dataflow (add --dry_run=True --no_auth --sdk_location container to only
build the job graph, offline), in Parquet:

  python -m pipelines.ingest --runner DataflowRunner --project P --region R \\
      --temp_location gs://B/tmp --setup_file ./setup.py \\
      --scraped 'gs://B/raw/*.jsonl.gz' --output gs://B/clean --format parquet

Date-partitioned backfills: pipelines/backfill.py.
"""

import sys

if __name__ == '__main__':
  # Before Beam's import: the pool's fork server warms up on the other core
  # meanwhile, where the run will surely extract pages here.
  from pipelines.pool_ahead import start_pool_ahead

  start_pool_ahead(sys.argv[1:])

import argparse
import contextlib
import gc
import json
import logging
import os
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import (
  DirectOptions,
  GoogleCloudOptions,
  PipelineOptions,
  SetupOptions,
  StandardOptions,
  TestOptions,
  TypeOptions,
)

from configs.loading import ConfigError, load_config, resolve_inputs
from pipelines.cli import check_beam_args, leave_to_exit
from pipelines.pool_ahead import LOCAL_RUNNERS, reads_pages
from transforms import dofn_specs
from transforms.dedup.batch import Deduplicate
from transforms.dedup.index import (
  DeduplicateAgainstIndex,
  RunIndex,
  default_index_path,
  output_run_key,
)
from transforms.fetch.client import FetchOptions
from transforms.fetch.redact import redact_logs
from transforms.fetch.state import SaveFetchState
from transforms.io.inputs import ReadInputs
from transforms.io.progress import ProgressReport
from transforms.io.publish import IndexFiles, finish_earlier_runs, new_token, unusable_location
from transforms.io.sinks import (
  DEAD_LETTER_REASONS,
  FORMATS,
  JSONL,
  NOTHING_READABLE,
  PRINTED_SECTIONS,
  WriteOutputs,
  summary_path,
)
from transforms.pipeline import ArticleRecords
from transforms.pool_modules import start_pool_early


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
  """The flags ingest and backfill share: where and how to write, config."""
  parser.add_argument('--config', help='YAML file merged over the defaults')
  parser.add_argument(
    '--output',
    required=True,
    metavar='DIR_OR_GS_PREFIX',
    help='folder or gs:// prefix for the outputs',
  )
  # --min_words too: Flex Template parameter names cannot hold a hyphen.
  parser.add_argument(
    '--min-words',
    '--min_words',
    dest='min_words',
    type=int,
    default=None,
    metavar='N',
    help='bodies shorter than N words are rejected (default: the config\'s filter.min_words)',
  )
  parser.add_argument(
    '--format',
    choices=FORMATS,
    default=None,
    help='part file format: JSON Lines, or Parquet with a '
    'declared schema (default: the config\'s output.format)',
  )


def build_parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
    prog='python -m pipelines.ingest',
    description='Turn feeds and scraped pages into clean article records. '
    'Flags not listed here are Beam pipeline options (--runner, ...).',
  )
  parser.add_argument(
    '--feeds',
    action='append',
    default=[],
    metavar='URL_OR_PATH',
    help='feed URL, or local/gs:// path or glob of feed documents; repeatable',
  )
  parser.add_argument(
    '--scraped',
    action='append',
    default=[],
    metavar='GLOB',
    help='local or gs:// glob of JSON Lines files of scraped pages (optionally .gz); repeatable',
  )
  add_archive_arguments(parser)
  add_output_arguments(parser)
  parser.add_argument(
    '--fetch-articles',
    action='store_true',
    help='fetch the page each feed entry links to and extract its main text',
  )
  parser.add_argument(
    '--allow-private-hosts',
    action='store_true',
    help='allow fetching from loopback, private and link-local addresses (tests, intranets)',
  )
  parser.add_argument(
    '--fetch-state',
    metavar='PATH',
    default=None,
    help='local or gs:// JSON file of the ETag and Last-Modified of the '
    'feeds, sitemaps and sitemaps\' pages, kept between runs so that unchanged '
    'ones are not refetched (default: the config\'s '
    'fetch.state_path; none: every run fetches everything)',
  )
  add_index_arguments(parser)
  return parser


def add_archive_arguments(parser: argparse.ArgumentParser) -> None:
  """The web archive and sitemap flags ingest and backfill share."""
  parser.add_argument(
    '--warc',
    action='append',
    default=[],
    metavar='GLOB',
    help='local or gs:// glob of WARC files (.warc, .warc.gz): their HTML responses; repeatable',
  )
  parser.add_argument(
    '--sitemaps',
    action='append',
    default=[],
    metavar='URL_OR_PATH',
    help='a sitemap or sitemap index (.xml, .xml.gz; URL or local/gs:// path), or a site root '
    'whose robots.txt lists its sitemaps: every page listed is fetched; repeatable',
  )


def add_index_arguments(parser: argparse.ArgumentParser) -> None:
  """The published-records index flags ingest and backfill share."""
  parser.add_argument(
    '--index',
    metavar='DIR_OR_GS_PREFIX',
    help='index of the records earlier runs published: '
    'they go to duplicates/ instead of being published '
    'again (default: dedup.index, else OUTPUT/_index)',
  )
  parser.add_argument('--no-index', action='store_true', help='deduplicate within this run only')


def resolve_settings(known: argparse.Namespace):
  """(config, min_words, file_format) from the flags and the config; a bad
  value is a clear error, not a traceback."""
  try:
    config = load_config(known.config)
  except ConfigError as e:
    raise SystemExit('newsbeam: %s' % e) from None
  min_words = known.min_words if known.min_words is not None else config['filter']['min_words']
  if min_words < 0:
    raise SystemExit('newsbeam: --min-words must be 0 or more')
  return config, min_words, known.format or config['output']['format']


def fetch_options(known: argparse.Namespace, config: Dict[str, Any]) -> FetchOptions:
  return FetchOptions(
    config['fetch'],
    allow_private_hosts=known.allow_private_hosts,
    fetch_articles=known.fetch_articles,
    state_path=known.fetch_state or config['fetch']['state_path'],
  )


def index_path(known: argparse.Namespace, config: Dict[str, Any]) -> Optional[str]:
  """The published-records index: --index, else the config's, else
  OUTPUT/_index; None with --no-index."""
  if known.no_index:
    return None
  return known.index or config['dedup']['index'] or default_index_path(known.output)


def dedup_for(
  config: Dict[str, Any], output: str, index: Optional[str], token: str
) -> Tuple[beam.PTransform, Optional[IndexFiles]]:
  """Within the run, and against the published-records index when given:
  (the dedup, the index files the run publishes with its outputs)."""
  if not index:
    return Deduplicate(config['dedup']), None
  files = IndexFiles(index, token, '')
  layout = RunIndex(config['dedup'], index, output_run_key(output), files.staged())
  return DeduplicateAgainstIndex(config['dedup'], layout), files._replace(files=layout.files())


def build_pipeline(
  pipeline: beam.Pipeline,
  config: Dict[str, Any],
  feeds: List[str],
  scraped: List[str],
  output: str,
  min_words: int,
  fetch: Optional[FetchOptions] = None,
  file_format: str = JSONL,
  index: Optional[str] = None,
  warc: List[str] = (),
  sitemaps: List[str] = (),
) -> None:
  """Read, the article stages (dedup against the index of earlier runs when
  given), write and publish (a run that reads nothing fails); then save the
  feeds' fetch state."""
  token = new_token()
  dedup, index_files = dedup_for(config, output, index, token)
  read = ReadInputs(
    feeds,
    scraped,
    config['read'],
    fetch,
    warc=warc,
    sitemaps=sitemaps,
    spread=not one_worker_here(pipeline.options),
  )
  inputs = pipeline | 'Read' >> read
  outputs = (inputs.pages, inputs.dead_letter) | 'Articles' >> ArticleRecords(
    config, min_words, dedup
  )
  written = outputs | 'Write' >> WriteOutputs(
    output,
    config['output']['compress'],
    file_format,
    taxonomy=config['taxonomy'],
    index=index_files,
    token=token,
    require_input=True,
    skipped=inputs.skipped,
  )
  if inputs.fetch_state is not None:
    inputs.fetch_state | 'SaveFetchState' >> SaveFetchState(fetch.state_path, after=written)


def read_summary(output: str, partition: Optional[str] = None) -> Optional[Dict[str, Any]]:
  """A finished run's summary.json (one partition's, for a backfill's day),
  or None when there is none to read."""
  path = summary_path(output, partition)
  try:
    with FileSystems.open(path) as f:
      return json.loads(f.read().decode('utf-8'))
  except Exception:  # e.g. a remote runner still running
    return None


# Dead-letter reasons printed after a run (summary.json holds them all).
_REASONS_SHOWN = 8


def format_summary(summary: Dict[str, Any], output: str) -> str:
  outputs = summary['outputs']
  lines = [
    'newsbeam: %d records under %s' % (summary['total'], output),
    '  ' + '  '.join('%s: %d' % (k, v) for k, v in outputs.items()),
  ]
  for section in PRINTED_SECTIONS:
    if summary.get(section):
      lines.append(
        '  %s: %s' % (section, ', '.join('%s %d' % kv for kv in summary[section].items()))
      )
  # Why inputs failed, not only where: 'read_scraped: invalid JSON 2'.
  reasons = list((summary.get(DEAD_LETTER_REASONS) or {}).items())
  if reasons:
    shown = ['%s %d' % kv for kv in reasons[:_REASONS_SHOWN]]
    if len(reasons) > _REASONS_SHOWN:
      shown.append('%d more in summary.json' % (len(reasons) - _REASONS_SHOWN))
    lines.append('  dead_letter_reasons: %s' % '; '.join(shown))
  return '\n'.join(lines)


class _QuietFalseWarnings(logging.Filter):
  """Drops Beam's "Resource module is not available" warning: RunInference
  logs it whenever an optional import of its own fails, though the resource
  module is there on Linux."""

  def filter(self, record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith('Resource module is not available')


class _QuietNothingReadable(logging.Filter):
  """Drops the runner's traceback of a run that read nothing: the launcher
  says why in one line."""

  def filter(self, record: logging.LogRecord) -> bool:
    return not (record.levelno >= logging.ERROR and NOTHING_READABLE in record.getMessage())


def configure_logging() -> None:
  """The launcher's logging: warnings and errors, without Beam's false ones."""
  logging.basicConfig(
    level=logging.WARNING, format='%(asctime)s %(levelname)s %(name)s: %(message)s'
  )
  for handler in logging.getLogger().handlers:
    handler.addFilter(_QuietFalseWarnings())
    handler.addFilter(_QuietNothingReadable())


def one_worker_here(options: PipelineOptions) -> bool:
  """Whether the run's one worker is this process: the DirectRunner in
  memory (its default mode) with one worker. Its reads need not be spread
  over workers (``ReadInputs``'s `spread`)."""
  direct = options.view_as(DirectOptions)
  return (
    options.view_as(StandardOptions).runner in LOCAL_RUNNERS
    and (direct.direct_running_mode or 'in_memory') == 'in_memory'
    and (direct.direct_num_workers or 1) == 1
  )


def local_progress(options: PipelineOptions, config: Dict[str, Any]):
  """A progress line every extract.progress_seconds while a local run
  (DirectRunner) goes on; nothing on other runners, which report their own."""
  runner = options.view_as(StandardOptions).runner
  local = runner in LOCAL_RUNNERS and not options.view_as(TestOptions).dry_run
  return ProgressReport(config['extract']['progress_seconds'] if local else 0)


def start_local_pool(
  options: PipelineOptions,
  config: Dict[str, Any],
  known: argparse.Namespace,
  feeds: List[str],
  scraped: List[str],
) -> bool:
  """The pool's fork server started ahead (``start_pool_early``) where the
  workers are this process: a local run, in memory or in threads, with
  pages to extract."""
  runner = options.view_as(StandardOptions).runner
  if runner not in LOCAL_RUNNERS or builds_only(options):
    return False
  if options.view_as(DirectOptions).direct_running_mode == 'multi_processing':
    return False
  return reads_pages(known, feeds, scraped) and start_pool_early(config)


def check_locations(known: argparse.Namespace) -> None:
  """An --output or --index that cannot be written (an existing file, an
  invalid bucket name, ...) is a clear error before anything runs."""
  for flag in ('output', 'index'):
    location = getattr(known, flag, None)
    problem = location and unusable_location(location)
    if problem:
      raise SystemExit('newsbeam: --%s %s: %s' % (flag, location, problem))


class Launch(NamedTuple):
  """What every entry point starts from: its flags, the Beam options, the
  configuration and the settings flags may override."""

  known: argparse.Namespace
  options: PipelineOptions
  config: Dict[str, Any]
  min_words: int
  file_format: str


def launch(parser: argparse.ArgumentParser, argv) -> Launch:
  """The opening every entry point shares: its flags parsed, the rest
  checked as Beam options (an unknown flag is an error), logs that show no
  credentials (feed URLs may carry tokens), the configuration read and
  validated."""
  known, beam_args = parser.parse_known_args(argv)
  check_beam_args(beam_args, parser)
  check_locations(known)
  redact_logs()
  config, min_words, file_format = resolve_settings(known)
  options = with_dofn_specs_memo(without_construction_type_check(PipelineOptions(beam_args)))
  return Launch(known, options, with_local_pool_size(config, options), min_words, file_format)


def without_construction_type_check(options: PipelineOptions) -> PipelineOptions:
  """Beam checks and infers type hints as it builds a graph
  (`pipeline_type_check`), through an inspection of every transform's
  functions: 0.3 to 0.6 s of a run's start-up, on the launcher's one core,
  before anything runs. newsbeam's graph is its own, the same on every run,
  and its tests build every entry point's graph with the check on
  (tests/pipelines/test_dataflow_deploy.py), so a run skips it. Without the
  inference, Beam codes elements as values of any type, which newsbeam's
  records (dicts) are anyway: the records come out the same."""
  options.view_as(TypeOptions).pipeline_type_check = False
  return options


def with_dofn_specs_memo(options: PipelineOptions) -> PipelineOptions:
  """Beam's look-up of each DoFn's state and timer specs, answered once
  per kind of DoFn (``transforms.dofn_specs``, about a quarter of a run's
  start-up): here, where importing it installed it, and in workers of
  their own (multi_processing, Dataflow), which import it as a Beam
  plugin."""
  setup = options.view_as(SetupOptions)
  plugins = list(setup.beam_plugins or [])
  if dofn_specs.__name__ not in plugins:
    setup.beam_plugins = plugins + [dofn_specs.__name__]
  return options


def with_local_pool_size(config: Dict[str, Any], options: PipelineOptions) -> Dict[str, Any]:
  """The configuration with `extract.processes` 0 (one child per core)
  made each local worker's share of the cores where the DirectRunner runs
  its workers as processes: each has a pool of its own, and two pools of one
  child per core would run twice as many children as cores."""
  direct = options.view_as(DirectOptions)
  workers = direct.direct_num_workers or os.cpu_count() or 1
  if (
    config['extract']['processes']
    or direct.direct_running_mode != 'multi_processing'
    or workers < 2
  ):
    return config
  share = max(1, (os.cpu_count() or 1) // workers)
  return dict(config, extract=dict(config['extract'], processes=share))


def builds_only(options: PipelineOptions) -> bool:
  """Whether the launcher only builds the job (a dry run, or a template
  that a Flex Template launcher submits): nothing of the run's outputs may
  be read, and reading gs:// would look up credentials and reach the
  network."""
  return bool(
    options.view_as(TestOptions).dry_run or options.view_as(GoogleCloudOptions).template_location
  )


def nothing_readable_exit(error: Exception) -> Optional[SystemExit]:
  """The clear exit for a run that failed because it read nothing (the
  runner wraps the publishing step's error in its own), else None."""
  for line in str(error).splitlines():
    if NOTHING_READABLE in line:
      message = line[line.index(NOTHING_READABLE) :].split(" [while running '")[0]
      return SystemExit('newsbeam: %s' % message.rstrip())
  return None


@contextlib.contextmanager
def clear_run_errors():
  """A run that read nothing ends with its message, not a traceback."""
  try:
    yield
  except SystemExit:
    raise
  except Exception as e:
    exit = nothing_readable_exit(e)
    if exit is None:
      raise
    raise exit from None


@contextlib.contextmanager
def start_up_left_out_of_collections():
  """Python's full collections (its oldest generation) go over every
  object alive, and a run's start-up leaves about 180,000 (Beam's and the
  stages' modules, the graph) that live as long as the run: frozen
  (``gc.freeze``) once the graph is built, they are left out of the run's
  collections (4,000 short records: 0.44 s of full collections down to
  0.14 s), and handed back to the collector when the run ends. Yields the
  call that freezes them. A process that froze objects of its own (a host
  that forks) is left as it is."""
  if gc.get_freeze_count():
    yield lambda: None
    return
  try:
    yield gc.freeze
  finally:
    gc.unfreeze()


def run(argv=None) -> Optional[Dict[str, Any]]:
  """Runs the pipeline; returns the run's summary when it can be read.

  Before it starts, a publish an earlier run into the same output left
  unfinished is finished, and what failed runs staged is removed (see
  transforms/io/publish.py)."""
  known, options, config, min_words, file_format = launch(build_parser(), argv)
  feeds, scraped = known.feeds, known.scraped
  if not (feeds or scraped or known.warc or known.sitemaps):
    inputs = resolve_inputs(config)
    feeds, scraped = inputs['feeds'], inputs['scraped']
  fetch = fetch_options(known, config)
  index = index_path(known, config)
  if not builds_only(options):
    finish_earlier_runs(known.output, index)
  start_local_pool(options, config, known, feeds, scraped)
  with clear_run_errors(), start_up_left_out_of_collections() as freeze:
    with local_progress(options, config), beam.Pipeline(options=options) as pipeline:
      build_pipeline(
        pipeline,
        config,
        feeds,
        scraped,
        known.output,
        min_words,
        fetch,
        file_format,
        index,
        warc=known.warc,
        sitemaps=known.sitemaps,
      )
      freeze()
  if builds_only(options):
    return None
  summary = read_summary(known.output)
  if summary is not None:
    print(format_summary(summary, known.output))
  return summary


if __name__ == '__main__':
  configure_logging()
  run(sys.argv[1:])
  leave_to_exit()
