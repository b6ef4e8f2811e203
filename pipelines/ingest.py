"""newsbeam batch ingestion: feeds and scraped pages -> clean article records.

Reads RSS/Atom feeds and JSON Lines files of scraped pages, extracts and
cleans the article text, detects its language (cutting fragments in another
language or script), removes exact and near duplicates, classifies topics
(IPTC Media Topics), and writes articles/, duplicates/, rejected/,
dead_letter/ and summary.json under --output.

Locally, on the bundled sample (the config's inputs):

  python -m pipelines.ingest --output output

On your own inputs, with both cores:

  python -m pipelines.ingest --feeds 'feeds/*.xml' --scraped 'pages/*.jsonl.gz' \\
      --output out --direct_num_workers=2 --direct_running_mode=multi_processing

On Dataflow:

  python -m pipelines.ingest --runner DataflowRunner --project P --region R \\
      --temp_location gs://B/tmp --setup_file ./setup.py \\
      --scraped 'gs://B/raw/*.jsonl.gz' --output gs://B/clean
"""

import argparse
import json
import logging
import sys
from typing import Any, Dict, List, Optional

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from transforms import schema
from transforms.boilerplate import CutSiteBoilerplate
from transforms.classify import ClassifyTopics
from transforms.clean import CleanArticles
from transforms.config import ConfigError, load_config, resolve_inputs
from transforms.dedup import Deduplicate
from transforms.extract import ExtractArticles
from transforms.filters import FilterArticles
from transforms.language import DetectLanguage
from transforms.sinks import SUMMARY_FILE, WriteOutputs, output_path
from transforms.sources import ReadInputs


def build_parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
      prog='python -m pipelines.ingest',
      description='Turn feeds and scraped pages into clean article records. '
      'Flags not listed here are Beam pipeline options (--runner, ...).')
  parser.add_argument('--config', help='YAML file merged over the defaults')
  parser.add_argument('--feeds', action='append', default=[],
                      metavar='URL_OR_PATH',
                      help='feed URL, or local/gs:// path or glob of feed '
                      'documents; repeatable')
  parser.add_argument('--scraped', action='append', default=[],
                      metavar='GLOB',
                      help='local or gs:// glob of JSON Lines files of scraped '
                      'pages (optionally .gz); repeatable')
  parser.add_argument('--output', required=True, metavar='DIR_OR_GS_PREFIX',
                      help='folder or gs:// prefix for the outputs')
  parser.add_argument('--min-words', type=int, default=None, metavar='N',
                      help='bodies shorter than N words are rejected '
                      '(default: the config\'s filter.min_words)')
  return parser


def build_pipeline(pipeline: beam.Pipeline, config: Dict[str, Any],
                   feeds: List[str], scraped: List[str], output: str,
                   min_words: int) -> None:
  """Wires the stages: read, extract, clean, site boilerplate, language,
  filter, dedup, classify, write."""
  pages, read_errors = pipeline | 'Read' >> ReadInputs(
      feeds, scraped, config['read'])
  extracted = pages | 'Extract' >> ExtractArticles(config['extract'])
  cleaned = extracted.articles | 'Clean' >> CleanArticles(config['clean'])
  templated = cleaned.articles | 'SiteBoilerplate' >> CutSiteBoilerplate(
      config['boilerplate'])
  labelled = templated.articles | 'Language' >> DetectLanguage(config['language'])
  kept = labelled.articles | 'Filter' >> FilterArticles(min_words)
  unique, duplicates = kept.articles | 'Dedup' >> Deduplicate(config['dedup'])
  classified = unique | 'Classify' >> ClassifyTopics(
      config['classify'], config['taxonomy'])
  outputs = {
      schema.ARTICLES: classified.articles,
      schema.DUPLICATES: duplicates,
      schema.REJECTED: (extracted.rejected, kept.rejected)
                       | 'AllRejected' >> beam.Flatten(),
      schema.DEAD_LETTER: (read_errors, extracted.dead_letter,
                           cleaned.dead_letter, templated.dead_letter,
                           labelled.dead_letter,
                           classified.dead_letter)
                          | 'AllDeadLetters' >> beam.Flatten(),
  }
  outputs | 'Write' >> WriteOutputs(output, config['output']['compress'])


def read_summary(output: str) -> Optional[Dict[str, Any]]:
  path = output_path(output, SUMMARY_FILE)
  try:
    with FileSystems.open(path) as f:
      return json.loads(f.read().decode('utf-8'))
  except Exception:  # e.g. a remote runner still running
    return None


def format_summary(summary: Dict[str, Any], output: str) -> str:
  outputs = summary['outputs']
  lines = ['newsbeam: %d records under %s' % (summary['total'], output),
           '  ' + '  '.join('%s: %d' % (k, v) for k, v in outputs.items())]
  for section in ('languages', 'topics', 'rejected_reasons',
                  'dead_letter_stages', 'duplicate_rules'):
    if summary.get(section):
      lines.append('  %s: %s' % (section, ', '.join(
          '%s %d' % kv for kv in summary[section].items())))
  return '\n'.join(lines)


def run(argv=None) -> Optional[Dict[str, Any]]:
  """Runs the pipeline; returns the run's summary when it can be read."""
  known, beam_args = build_parser().parse_known_args(argv)
  try:
    config = load_config(known.config)
  except ConfigError as e:
    raise SystemExit('newsbeam: %s' % e)
  feeds, scraped = known.feeds, known.scraped
  if not feeds and not scraped:
    inputs = resolve_inputs(config)
    feeds, scraped = inputs['feeds'], inputs['scraped']
  min_words = (known.min_words if known.min_words is not None
               else config['filter']['min_words'])
  if min_words < 0:
    raise SystemExit('newsbeam: --min-words must be 0 or more')
  options = PipelineOptions(beam_args)
  with beam.Pipeline(options=options) as pipeline:
    build_pipeline(pipeline, config, feeds, scraped, known.output, min_words)
  summary = read_summary(known.output)
  if summary is not None:
    print(format_summary(summary, known.output))
  return summary


if __name__ == '__main__':
  logging.getLogger().setLevel(logging.WARNING)
  run(sys.argv[1:])
