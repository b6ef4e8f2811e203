"""The BBC News topic set (`../shared/data/topics/bbc/bbc_news.csv`) as
labelled articles, and as the JSON Lines the training command reads.

The BBC owns the text and the set is for research use: convert it into a
scratch folder, never into the repository.

  python -m benchmarks.bbc_news --data ../shared/data --output /tmp/bbc.jsonl
  python -m pipelines.train_classifier --data /tmp/bbc.jsonl \\
      --output /tmp/bbc.joblib
"""

import argparse
import csv
import json
import os
from typing import Dict, List

BBC_CSV = os.path.join('topics', 'bbc', 'bbc_news.csv')


def default_data() -> str:
  return os.path.join('..', 'shared', 'data')


def read_bbc(data_dir: str) -> List[Dict[str, str]]:
  """The articles as `{title, text, label}` (label: business, entertainment,
  politics, sport or tech), in file order, repeats included."""
  path = os.path.join(data_dir, BBC_CSV)
  with open(path, encoding='utf-8', newline='') as f:
    return [
      {'title': row['title'], 'text': row['text'], 'label': row['category']}
      for row in csv.DictReader(f)
    ]


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument(
    '--data', default=default_data(), help='the shared data folder (default ../shared/data)'
  )
  parser.add_argument('--output', required=True, help='JSON Lines file')
  args = parser.parse_args(argv)
  articles = read_bbc(args.data)
  with open(args.output, 'w', encoding='utf-8') as f:
    for article in articles:
      f.write(json.dumps(article, ensure_ascii=False) + '\n')
  print('%d articles -> %s' % (len(articles), args.output))


if __name__ == '__main__':
  main()
