"""Robustness and the cost of the limits, on real documents.

1. feedparser's own test corpus (2,100 well-formed and ill-formed feeds, odd
   encodings, entities): every document through `parse_feed_document` and
   every entry through `build_article`. Counts pages, dead letters and
   exceptions (must be 0), and compares the time with feedparser.parse alone
   on the same files (the baseline).
2. The extraction time budget: the news pages of the extraction benchmark
   through `extract_page` in the worker (the baseline) and through
   `TimeBudget` (a child process, as the pipeline runs it).

  python benchmarks/robustness.py [--data ../shared/data] [--pages 70]
"""

import argparse
import glob
import gzip
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

from transforms import extract, schema
from transforms.io.feeds import parse_feed_document
from transforms.text.budget import TimeBudget

# What must never be in a record's text (as tests/stages/test_hostile_inputs_end_in_one_output.py
# checks).
_TAG_START = re.compile(r'<[a-zA-Z/!?]')


def has_markup(article):
  return any(_TAG_START.search(article.get(field) or '') for field in ('title', 'body', 'summary'))


def feed_corpus(data):
  import feedparser

  paths = sorted(
    p
    for p in glob.glob(
      os.path.join(data, 'feeds', 'feedparser-tests', 'tests', '**', '*'), recursive=True
    )
    if os.path.isfile(p)
  )
  documents = []
  for path in paths:
    with open(path, 'rb') as f:
      documents.append(f.read())
  start = time.perf_counter()
  for data_bytes in documents:
    feedparser.parse(data_bytes, sanitize_html=True)
  baseline = time.perf_counter() - start
  counts = {
    'documents': len(documents),
    'pages': 0,
    'dead_letters': 0,
    'articles_with_text': 0,
    'exceptions': 0,
    'markup_in_text': 0,
  }
  slowest = 0.0
  start = time.perf_counter()
  for path, data_bytes in zip(paths, documents):
    t = time.perf_counter()
    try:
      for kind, record in parse_feed_document(data_bytes, path):
        if kind == 'page':
          counts['pages'] += 1
          article = extract.build_article(record)
          counts['articles_with_text'] += bool(article['body'])
          counts['markup_in_text'] += has_markup(article)
          schema.to_json_line(article).encode('utf-8')
        else:
          counts['dead_letters'] += 1
          schema.to_json_line(record).encode('utf-8')
    except Exception as e:  # what the benchmark is looking for
      counts['exceptions'] += 1
      print('EXCEPTION %s: %s: %s' % (path, type(e).__name__, e))
    slowest = max(slowest, time.perf_counter() - t)
  newsbeam = time.perf_counter() - start
  return counts, baseline, newsbeam, slowest


def news_pages_markup(data):
  """Real pages through build_article: does any markup survive?"""
  paths = sorted(
    glob.glob(os.path.join(data, 'extraction', 'trafilatura-eval-subset', 'html', '*'))
  )
  markup = 0
  for path in paths:
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rt', encoding='utf-8', errors='replace') as f:
      page = {'url': 'https://eval.example/', 'html': f.read()}
    markup += has_markup(extract.build_article(page))
  return len(paths), markup


def extraction_budget(data, limit):
  paths = sorted(
    glob.glob(os.path.join(data, 'extraction', 'scrapinghub-dev', 'html', '*.html.gz'))
  )[:limit]
  pages = []
  for path in paths:
    with gzip.open(path, 'rt', encoding='utf-8', errors='replace') as f:
      pages.append(f.read())
  warm_up = ('<html><body><p>Warm up.</p></body></html>', None)
  extract.extract_page(*warm_up)  # imports, as the child's warm-up does
  budget = TimeBudget(30, extract.extract_page, warm_up=warm_up)
  budget(*warm_up)  # starts the child outside the timing

  def timed(function):
    start = time.perf_counter()
    texts = [function(page, None)['text'] for page in pages]
    return time.perf_counter() - start, texts

  # Alternated, best of three each: the machine is shared.
  inline_times, budget_times = [], []
  for _ in range(3):
    seconds, inline = timed(extract.extract_page)
    inline_times.append(seconds)
    seconds, budgeted = timed(budget)
    budget_times.append(seconds)
    assert budgeted == inline, 'the child process must give the same text'
  budget.close()
  baseline, budget_time = min(inline_times), min(budget_times)
  return len(pages), sum(map(len, pages)), baseline, budget_time


def main(argv=None):
  default = os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'data')
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument(
    '--data', default=default if os.path.isdir(default) else None, help='the shared data folder'
  )
  parser.add_argument(
    '--pages', type=int, default=70, help='news pages for the time-budget comparison'
  )
  args = parser.parse_args(argv)
  if not args.data:
    parser.error('--data is required (no ../shared/data here)')
  counts, baseline, newsbeam, slowest = feed_corpus(args.data)
  print('## Feed corpus (feedparser tests)\n')
  print('| documents | pages | dead letters | pages with text | exceptions | markup in text |')
  print('| ---: | ---: | ---: | ---: | ---: | ---: |')
  print(
    '| %(documents)d | %(pages)d | %(dead_letters)d | '
    '%(articles_with_text)d | %(exceptions)d | %(markup_in_text)d |' % counts
  )
  print('\n| step | seconds | ratio |\n| --- | ---: | ---: |')
  print('| feedparser.parse alone (baseline) | %.2f | 1.00 |' % baseline)
  print('| parse_feed_document + build_article | %.2f | %.2f |' % (newsbeam, newsbeam / baseline))
  print('| slowest single document | %.3f | |' % slowest)
  pages, markup = news_pages_markup(args.data)
  print('\n## News pages through build_article (trafilatura eval subset)\n')
  print('| pages | markup in text |\n| ---: | ---: |\n| %d | %d |' % (pages, markup))
  n, size, inline, budgeted = extraction_budget(args.data, args.pages)
  print('\n## Extraction time budget (%d news pages, %.1f MB, best of 3)\n' % (n, size / 1e6))
  print('| how | seconds | per page (ms) | ratio |\n| --- | ---: | ---: | ---: |')
  print('| in the worker (baseline) | %.2f | %.1f | 1.00 |' % (inline, 1000 * inline / n))
  print(
    '| child process with a 30 s budget | %.2f | %.1f | %.2f |'
    % (budgeted, 1000 * budgeted / n, budgeted / inline)
  )


if __name__ == '__main__':
  main()
