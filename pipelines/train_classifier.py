"""Trains newsbeam's topic model on labelled articles.

Reads JSON Lines, one labelled article a line: `text` (required), `title`
(optional) and `label`, an IPTC Media Topic code (`medtop:15000000`), a
label of the taxonomy (`sport`) or a name in the config's
`classify.label_names` (`tech`). Exact repeats of a text are dropped, a
stratified share of the articles is held out and the model trained on the
rest is scored on them (full text, headline, headline + first sentence),
then the model is trained on all articles and written to --output, which
the pipeline reads through `classify.model`.

  python -m pipelines.train_classifier --data labelled.jsonl \\
      --output models/topics.joblib [--test-size 0.2] [--seed 0]

The same data, config and seed give the same model and the same figures.
"""

import argparse
import os
import sys

from apache_beam.io.filesystems import FileSystems

from configs.loading import ConfigError, load_config
from pipelines.cli import leave_to_exit
from transforms.topics import model as topic_model


def build_parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
    prog='python -m pipelines.train_classifier',
    description='Train the IPTC Media Topics model on labelled articles.',
  )
  parser.add_argument(
    '--data',
    required=True,
    metavar='LABELLED.jsonl',
    help='JSON Lines of {text, title?, label}; local or gs://',
  )
  parser.add_argument(
    '--output', required=True, metavar='MODEL', help='where to write the model file; local or gs://'
  )
  parser.add_argument(
    '--config',
    help='YAML file merged over the defaults (classify.training, classify.label_names, taxonomy)',
  )
  parser.add_argument(
    '--test-size',
    type=float,
    default=0.2,
    help='share of the articles held out to measure the model, 0 to skip (default 0.2)',
  )
  parser.add_argument('--seed', type=int, default=0, help='seed of the held-out split (default 0)')
  return parser


def format_report(report, taxonomy) -> str:
  lines = []
  for variant, scores in report.items():
    lines.append(
      'held out, %s: accuracy %.4f  macro-F1 %.4f'
      % (variant, scores['accuracy'], scores['macro_f1'])
    )
    for code, c in scores['per_class'].items():
      lines.append(
        '  %s %-40s P %.3f  R %.3f  F1 %.3f  n %d'
        % (code, taxonomy.get(code, '?')[:40], c['precision'], c['recall'], c['f1'], c['support'])
      )
  return '\n'.join(lines)


def run(argv=None):
  args = build_parser().parse_args(argv)
  if not 0 <= args.test_size < 1:
    raise SystemExit('train_classifier: --test-size must be in [0, 1)')
  try:
    config = load_config(args.config)
    with FileSystems.open(args.data) as f:
      lines = f.read().decode('utf-8').splitlines()
    examples = topic_model.read_examples(
      lines,
      topic_model.label_index(config['taxonomy'], config['classify']['label_names']),
      args.data,
    )
    artifact, report = topic_model.train(
      examples,
      config['classify'],
      args.test_size,
      args.seed,
      trained_on=os.path.basename(args.data),
    )
  except (ConfigError, topic_model.ModelDataError, OSError) as e:
    raise SystemExit('train_classifier: %s' % e) from None
  if report:
    print(format_report(report, config['taxonomy']))
  with FileSystems.create(args.output) as f:
    topic_model.save_model(artifact, f)
  print(
    'model: %d articles, topics %s -> %s'
    % (artifact['articles'], ', '.join(artifact['codes']), args.output)
  )
  return report


if __name__ == '__main__':
  run(sys.argv[1:])
  leave_to_exit()
