"""The packaged topic model's training and evaluation data, from the shared
data sets, as the JSON Lines `pipelines.train_classifier` reads.

Each set's classes are mapped onto IPTC top-level codes (`LABELLED_TOPICS`):

- MasakhaNEWS (AFL-3.0): news articles in 16 languages, 7 classes;
- SIB-200 (text from FLORES-200, CC BY-SA 4.0): the same sentences in 205
  languages, 7 classes; `geography` has no top-level IPTC equivalent and is
  left out, `travel` is lifestyle and leisure. Per language a different
  share of the sentences is taken, so that the languages do not all repeat
  the same ones;
- IPTC Media Topics (CC BY 4.0): the name and definition of the top two
  levels of codes in the 13 locales of IPTC's mapping file, and of the
  deeper ones in English, as an example of its top-level topic (they are
  definitions, not news: the deeper levels in every locale, 11,000 rows,
  outweighed the news);
- `benchmarks/topic_examples.jsonl`: news headlines and leads written for
  newsbeam by its engineers, for every topic, in 29 languages: with the
  definitions, the only text here for the nine topics no labelled set has.

`--split train` writes the training data (the sets' train splits);
`--split dev` the held-out dev splits with a `lang` and `source` field per
line, which `benchmarks.topics` scores. BBC News is never in either.
`--hold-out yor,tur,...` leaves whole languages out of the training data
(MasakhaNEWS codes, SIB-200 codes by their first part, IPTC locales and the
written examples' two-letter codes: `de,deu` for German), to measure a
model on languages it never saw.

  python -m benchmarks.topic_corpus --split train --output /tmp/topics-train.jsonl
  python -m pipelines.train_classifier --data /tmp/topics-train.jsonl \\
      --config benchmarks/topic_model.yaml --output /tmp/iptc_multilingual.joblib
"""

import argparse
import collections
import csv
import gzip
import hashlib
import json
import os
import re
import sys
import zipfile
from xml.etree import ElementTree

from benchmarks.bbc_news import default_data

MASAKHANEWS_TOPICS = {
  'business': 'medtop:04000000',
  'entertainment': 'medtop:01000000',
  'health': 'medtop:07000000',
  'politics': 'medtop:11000000',
  'religion': 'medtop:12000000',
  'sports': 'medtop:15000000',
  'technology': 'medtop:13000000',
}
SIB200_TOPICS = {
  'science/technology': 'medtop:13000000',
  'travel': 'medtop:10000000',
  'politics': 'medtop:11000000',
  'sports': 'medtop:15000000',
  'health': 'medtop:07000000',
  'entertainment': 'medtop:01000000',
}
LABELLED_TOPICS = {'masakhanews': MASAKHANEWS_TOPICS, 'sib200': SIB200_TOPICS}
# The share of SIB-200 training sentences taken per language: the 701 are
# the same in every language.
SIB200_PER_LANGUAGE = 0.10
# MasakhaNEWS training articles taken per language and topic, so that the
# largest languages and topics do not drown the rest.
MASAKHANEWS_PER_LANGUAGE_TOPIC = 120
WRITTEN_EXAMPLES = os.path.join(os.path.dirname(__file__), 'topic_examples.jsonl')
# News items written by the project's engineers to test the model on all 17
# topics: never trained on, never used to choose anything.
WRITTEN_TEST = os.path.join(os.path.dirname(__file__), 'topic_test_written.jsonl')

_SHEET = '{http://schemas.openxmlformats.org/spreadsheetml/2006/main}'


def _share(key: str, share: float) -> bool:
  """A stable pseudo-random share of keys."""
  return int(hashlib.sha1(key.encode('utf-8')).hexdigest()[:8], 16) < share * 2**32


def _language(code: str) -> str:
  """'yor' of SIB-200's 'yor_Latn'."""
  return code.split('_')[0]


def read_masakhanews(data: str, split: str):
  path = os.path.join(data, 'topics', 'masakhanews', 'train_dev.tsv.gz')
  csv.field_size_limit(sys.maxsize)
  taken = {}
  with gzip.open(path, 'rt', encoding='utf-8') as f:
    for row in csv.DictReader(f, delimiter='\t', quoting=csv.QUOTE_NONE):
      if row['split'] == split and row['category'] in MASAKHANEWS_TOPICS:
        key = (row['lang'], row['category'])
        taken[key] = taken.get(key, 0) + 1
        if split == 'train' and taken[key] > MASAKHANEWS_PER_LANGUAGE_TOPIC:
          continue
        yield {
          'title': row['headline'],
          'text': row['text'],
          'label': MASAKHANEWS_TOPICS[row['category']],
          'lang': row['lang'],
          'source': 'masakhanews',
        }


def read_sib200(data: str, split: str, every: bool = False):
  """SIB-200's sentences of a split; of the train split a different share
  per language, unless `every`."""
  path = os.path.join(data, 'topics', 'sib200', 'train_dev.tsv.gz')
  with gzip.open(path, 'rt', encoding='utf-8') as f:
    for row in csv.DictReader(f, delimiter='\t', quoting=csv.QUOTE_NONE):
      if row['split'] != split or row['category'] not in SIB200_TOPICS:
        continue
      if (
        split == 'train'
        and not every
        and not _share(row['lang'] + row['index_id'], SIB200_PER_LANGUAGE)
      ):
        continue
      yield {
        'text': row['text'],
        'label': SIB200_TOPICS[row['category']],
        'lang': row['lang'],
        'source': 'sib200',
        # The same sentence in every language.
        'index_id': row['index_id'],
      }


def _sheet_rows(path: str):
  """The rows of the IPTC mapping workbook's sheet as dicts by column name
  (the second row holds the names); read with the standard library."""
  with zipfile.ZipFile(path) as book:
    strings = [
      ''.join(t.text or '' for t in item.iter(_SHEET + 't'))
      for item in ElementTree.fromstring(book.read('xl/sharedStrings.xml'))
    ]
    sheet = ElementTree.fromstring(book.read('xl/worksheets/sheet1.xml'))
  rows = []
  for row in sheet.iter(_SHEET + 'row'):
    cells = {}
    for cell in row.iter(_SHEET + 'c'):
      value = cell.find(_SHEET + 'v')
      if value is not None:
        column = re.match(r'[A-Z]+', cell.get('r')).group()
        cells[column] = strings[int(value.text)] if cell.get('t') == 's' else value.text
    rows.append(cells)
  names = rows[1]
  return [{names[c]: v for c, v in row.items() if c in names} for row in rows[2:]]


def read_iptc_definitions(data: str):
  """Every current code's name and definition per locale, labelled with its
  top-level topic and with its own depth (1 for a top-level topic)."""
  folder = os.path.join(data, 'topics', 'iptc')
  with open(os.path.join(folder, 'iptc_mapping.json'), encoding='utf-8') as f:
    mapping = json.load(f)
  for row in _sheet_rows(os.path.join(folder, 'IPTC-MediaTopic-NewsCodes-mappings.xlsx')):
    entry = mapping.get(row.get('NewsCode-QCode (flat)'), {})
    top, retired = entry.get('Level1/NewsCode'), entry.get('RetiredDate')
    if not isinstance(top, str) or (isinstance(retired, str) and retired):
      continue
    code = row.get('NewsCode-QCode (flat)')
    depth = 1 if code == top else 2 if code == entry.get('Level2/NewsCode') else 3
    for column, name in row.items():
      if not column.startswith('Name ('):
        continue
      locale = column[len('Name (') : -1]
      definition = row.get('Definition (%s)' % locale, '')
      yield {
        'title': name,
        'text': definition or name,
        'label': top,
        'lang': locale,
        'source': 'iptc',
        'depth': depth,
      }


def read_iptc_examples(data: str):
  """The IPTC texts trained on: top-level and second-level topics in all 13
  locales, third-level and deeper in English."""
  for row in read_iptc_definitions(data):
    if row['depth'] < 3 or row['lang'] == 'en-GB':
      yield row


def read_written_examples(path: str = WRITTEN_EXAMPLES):
  with open(path, encoding='utf-8') as f:
    for line in f:
      yield dict(json.loads(line), source='written')


def corpus(data: str, split: str, held_out=()):
  sources = [read_masakhanews(data, split), read_sib200(data, split)]
  if split == 'train':
    sources += [read_iptc_examples(data), read_written_examples()]
  for source in sources:
    for example in source:
      if _language(example['lang']) not in held_out:
        yield example


def write_examples(rows, path: str) -> None:
  """Writes `rows` as JSON Lines to `path` and prints how many there are
  per set and label."""
  counts = collections.Counter()
  with open(path, 'w', encoding='utf-8') as out:
    for row in rows:
      counts[row['source'], row['label']] += 1
      out.write(json.dumps(row, ensure_ascii=False) + '\n')
  for (source, label), n in sorted(counts.items()):
    print('%-12s %s %6d' % (source, label, n))
  print('total %d -> %s' % (sum(counts.values()), path))


def run(argv=None):
  parser = argparse.ArgumentParser(prog='python -m benchmarks.topic_corpus')
  parser.add_argument('--data', default=default_data(), help='the shared data folder')
  parser.add_argument('--split', choices=('train', 'dev'), default='train')
  parser.add_argument('--output', required=True)
  parser.add_argument(
    '--hold-out', default='', metavar='LANGS', help='comma-separated languages left out'
  )
  args = parser.parse_args(argv)
  held_out = set(filter(None, args.hold_out.split(',')))
  examples = corpus(args.data, args.split, held_out if args.split == 'train' else ())
  write_examples(
    (e for e in examples if isinstance(e.get('text'), str) and e['text'].strip()), args.output
  )


if __name__ == '__main__':
  run(sys.argv[1:])
