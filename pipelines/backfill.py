"""newsbeam backfill: a range of days of date-partitioned raw input ->
date-partitioned outputs, in one Beam pipeline.

Reads `INPUT_ROOT/dt=YYYY-MM-DD/*.jsonl[.gz]` for every day from --start to
--end and writes, per day,

  OUTPUT/articles/dt=YYYY-MM-DD/part-*      (and duplicates/, rejected/,
  OUTPUT/summary/dt=YYYY-MM-DD/summary.json  dead_letter/ the same way)

Rerunning a day replaces that day's partitions (stale part files removed) and
leaves the other days alone. Each day's outputs and index entries are staged
and published together, as one unit, once every record of the day is
written (see transforms/io/publish.py); a day whose records fail publishes
nothing. Each day is read, extracted, cleaned and
filtered in its own branch; deduplication then runs over the whole range in
date order (an article listed again on a later day is a duplicate there),
against the articles earlier backfills published on the days before the
range (the index, OUTPUT/_index/dt=YYYY-MM-DD/ unless --index or --no-index
says otherwise; see transforms/io/partitions.py); classification and writing
follow, one branch per day. The job graph grows
with the number of days: submit long ranges as one job per month.

Web archives (--warc) and sitemaps (--sitemaps) are read and their pages
extracted once for the range, besides --input-root or instead of it: an
article goes to the day extraction reads it was published (the page's own
marks, else its sitemap's date), else the day it was archived; a page of
neither day in the range is a dead letter. Only the sitemap pages dated
within the range are fetched.

Locally:

  python -m pipelines.backfill --start 2022-04-01 --end 2022-04-07 \\
      --input-root raw --output clean

A month of CC-NEWS (see docs/operations/warc-and-sitemaps.md):

  python -m pipelines.backfill --start 2024-03-01 --end 2024-03-31 \\
      --warc 'gs://B/cc-news/2024/03/*.warc.gz' --output gs://B/clean

On Dataflow (any ingest or Beam option passes through):

  python -m pipelines.backfill --start 2022-04-01 --end 2022-04-07 \\
      --input-root gs://B/raw --output gs://B/clean --format parquet \\
      --runner DataflowRunner --project P --region R \\
      --temp_location gs://B/tmp --setup_file ./setup.py
"""

import argparse
import sys
from typing import Any, Dict, List, Optional, Tuple

import apache_beam as beam

from pipelines.cli import leave_to_exit
from pipelines.ingest import (
  add_archive_arguments,
  add_index_arguments,
  add_output_arguments,
  builds_only,
  configure_logging,
  index_path,
  launch,
  local_progress,
  one_worker_here,
  read_summary,
  start_up_left_out_of_collections,
)
from transforms.articles import ProcessByDay
from transforms.dedup.days import day_index_files, deduplicate_across_days
from transforms.fetch.client import FetchOptions
from transforms.io.inputs import ReadInputs
from transforms.io.partitions import (
  SplitByDay,
  date_range,
  failure_day,
  nearest_day,
  partition_name,
  scraped_glob,
  with_partition,
)
from transforms.io.publish import IndexFiles, finish_earlier_runs, new_token, staging_folder
from transforms.io.sinks import DEAD_LETTER_REASONS, JSONL, WriteOutputs
from transforms.pipeline import ArticleRecords, Outputs


def build_parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
    prog='python -m pipelines.backfill',
    description='Process a range of days of date-partitioned raw input '
    'into date-partitioned outputs. Flags not listed here are Beam '
    'pipeline options (--runner, ...).',
  )
  parser.add_argument('--start', required=True, metavar='YYYY-MM-DD', help='first day of the range')
  parser.add_argument(
    '--end', required=True, metavar='YYYY-MM-DD', help='last day of the range (inclusive)'
  )
  parser.add_argument(
    '--input-root',
    '--input_root',
    dest='input_root',
    metavar='DIR_OR_GS_PREFIX',
    help='holds dt=YYYY-MM-DD/*.jsonl[.gz] folders of scraped pages (required unless --warc '
    'or --sitemaps is given)',
  )
  add_archive_arguments(parser)
  parser.add_argument(
    '--allow-private-hosts',
    action='store_true',
    help='allow fetching sitemaps and pages from loopback, private and link-local addresses',
  )
  add_output_arguments(parser)
  add_index_arguments(parser)
  return parser


def build_backfill(
  pipeline: beam.Pipeline,
  config: Dict[str, Any],
  days: List[str],
  input_root: str,
  output: str,
  min_words: int,
  file_format: str = JSONL,
  index: Optional[str] = None,
  warc: List[str] = (),
  sitemaps: List[str] = (),
  fetch: Optional[FetchOptions] = None,
) -> None:
  """Reads each day (and the web archives and sitemaps once), runs the
  text stages per day, dedups across the range (and against the days before
  it in `index`, when given), classifies, and writes each day's outputs."""
  token = new_token()
  staged = staging_folder(index, token) if index else None
  spread = not one_worker_here(pipeline.options)
  pages, read_dead = [], []
  skipped_by_day = None
  if warc or sitemaps:
    archived = pipeline | 'ReadArchives' >> ReadInputs(
      [],
      [],
      config['read'],
      fetch or FetchOptions(config['fetch']),
      warc=warc,
      sitemaps=sitemaps,
      sitemap_days=(days[0], days[-1]),
      spread=spread,
    )
    # Dated after extraction, by what it reads (ProcessByDay).
    pages.append(archived.pages)
    read_dead.append(
      archived.dead_letter
      | 'TagArchiveErrors' >> beam.Map(lambda r: with_partition(r, failure_day(r, days)))
    )
    skipped_by_day = (
      archived.skipped
      | 'TagSkipped' >> beam.Map(lambda s: with_partition(s, nearest_day(s['day'], days)))
      | 'SkippedByDay' >> SplitByDay(days)
    )
  for day in days if input_root else ():
    tag = lambda record, day=day: with_partition(record, day)
    read = ReadInputs(
      [],
      [scraped_glob(input_root, day)],
      config['read'],
      FetchOptions(config['fetch']),
      spread=spread,
    )
    day_pages, day_dead, *_ = pipeline | '%s/Read' % day >> read
    pages.append(day_pages | '%s/TagPages' % day >> beam.Map(tag))
    read_dead.append(day_dead | '%s/TagReadErrors' % day >> beam.Map(tag))
  outputs = (
    pages | 'AllPages' >> beam.Flatten(),
    read_dead | 'AllReadErrors' >> beam.Flatten(),
  ) | 'Articles' >> ArticleRecords(
    config,
    min_words,
    deduplicate_across_days(config['dedup'], days, index, staged),
    process=ProcessByDay(config, min_words, days, archives=bool(warc or sitemaps)),
  )
  # A classification dead letter keeps its day in its `raw` article.
  per_day = [
    records | 'Split_%s' % name >> SplitByDay(days)
    for name, records in zip(outputs._fields, outputs)
  ]
  for i, day in enumerate(days):
    (
      Outputs(*(parts[i] for parts in per_day))
      | 'Write_%s' % day
      >> WriteOutputs(
        output,
        config['output']['compress'],
        file_format,
        partition=partition_name(day),
        taxonomy=config['taxonomy'],
        index=IndexFiles(index, token, day_index_files(day)) if index else None,
        token=token,
        skipped=skipped_by_day[i] if skipped_by_day else None,
      )
    )


# A day's dead letter when its dt= folder holds no file.
_NO_INPUT = 'read_scraped: no files match'


def format_days(days_summaries: List[Tuple[str, Optional[Dict[str, Any]]]], output: str) -> str:
  """What a backfill prints at the end: one line per day, its counts and
  whether it had any input, and a warning when no day had any."""
  lines = ['newsbeam backfill: %d days under %s' % (len(days_summaries), output)]
  without_input = 0
  for day, summary in days_summaries:
    if summary is None:
      lines.append('  %s: no summary written' % partition_name(day))
      continue
    counts = '  '.join('%s %d' % kv for kv in summary['outputs'].items())
    no_input = _NO_INPUT in (summary.get(DEAD_LETTER_REASONS) or {})
    without_input += no_input
    lines.append('  %s: %s%s' % (partition_name(day), counts, '  (no input)' if no_input else ''))
  if days_summaries and without_input == len(days_summaries):
    lines.append('  no day had any input: is --input-root right?')
  return '\n'.join(lines)


def run(argv=None) -> List[str]:
  """Runs the backfill; returns the days it wrote."""
  known, options, config, min_words, file_format = launch(build_parser(), argv)
  try:
    days = date_range(known.start, known.end)
  except ValueError as e:
    raise SystemExit('newsbeam: bad --start/--end: %s' % e) from None
  if not (known.input_root or known.warc or known.sitemaps):
    raise SystemExit('newsbeam: give --input-root, --warc or --sitemaps')
  index = index_path(known, config)
  if not builds_only(options):
    finish_earlier_runs(known.output, index)
  with start_up_left_out_of_collections() as freeze:
    with local_progress(options, config), beam.Pipeline(options=options) as pipeline:
      build_backfill(
        pipeline,
        config,
        days,
        known.input_root,
        known.output,
        min_words,
        file_format,
        index,
        warc=known.warc,
        sitemaps=known.sitemaps,
        fetch=FetchOptions(config['fetch'], allow_private_hosts=known.allow_private_hosts),
      )
      freeze()
  if not builds_only(options):
    summaries = [(day, read_summary(known.output, partition_name(day))) for day in days]
    print(format_days(summaries, known.output))
  return days


if __name__ == '__main__':
  configure_logging()
  run(sys.argv[1:])
  leave_to_exit()
