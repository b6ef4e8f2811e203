"""Publication times: page dates as newsbeam reads them now (htmldate asked
for the time and zone, bounded by the end of the latest day, converted to
UTC) against the day-only reading it replaced (htmldate's default format,
bounded by the day), on the extraction sets' real pages, in one run.

Reports how many pages keep the same day (a time converted to UTC may fall
on the next or previous day: those are listed), how many gain a time of
day, and the CPU time of each reading (the least of --rounds rounds; the
machine may be shared, so the ratio is what counts).

  .venv/bin/python benchmarks/publication_times.py [--data ../shared/data] [--rounds 3]
"""

import argparse
import glob
import gzip
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)

from htmldate import find_date  # noqa: E402
from trafilatura.settings import set_date_params  # noqa: E402

from transforms.text.page import (  # noqa: E402
  _DATE_WITH_TIME,
  _end_of_day,
  page_publication_time,
  parse_page,
)

SETS = ('extraction/scrapinghub-dev', 'extraction/trafilatura-eval-subset')
# A fixed bound, so that the figures do not depend on the day they are taken.
LATEST = '2026-12-07'


def day_only(tree):
  return find_date(tree, **dict(set_date_params(True), max_date=LATEST))


def with_time(tree):
  params = dict(set_date_params(True), outputformat=_DATE_WITH_TIME)
  params['max_date'] = _end_of_day(LATEST)
  return page_publication_time(find_date(tree, **params))


def read_pages(data):
  trees = []
  for name in SETS:
    for path in sorted(glob.glob(os.path.join(data, name, 'html', '*'))):
      with (gzip.open if path.endswith('.gz') else open)(path, 'rb') as f:
        tree = parse_page(f.read().decode('utf-8', 'replace'))
      if tree is not None:
        trees.append(tree)
  return trees


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--data', default=os.path.join(ROOT, '..', 'shared', 'data'))
  parser.add_argument('--rounds', type=int, default=3)
  args = parser.parse_args(argv)
  trees = read_pages(args.data)
  cpu, dates = {}, {}
  for _ in range(args.rounds):
    for name, reading in (('day only', day_only), ('with time', with_time)):
      start = time.process_time()
      dates[name] = [reading(tree) for tree in trees]
      cpu[name] = min(cpu.get(name, float('inf')), time.process_time() - start)
  before, now = dates['day only'], dates['with time']
  differ = [(b, n) for b, n in zip(before, now) if (b or '')[:10] != (n or '')[:10]]
  print(
    'pages %d, dated %d (before %d)' % (len(trees), sum(map(bool, now)), sum(map(bool, before)))
  )
  print(
    'with a time of day %d, same day as before %d'
    % (sum(len(n or '') > 10 for n in now), len(trees) - len(differ))
  )
  for b, n in differ:
    print('  day differs: %s -> %s' % (b, n))
  print(
    'CPU s: day only %.3f, with time %.3f, ratio %.2f'
    % (cpu['day only'], cpu['with time'], cpu['with time'] / cpu['day only'])
  )


if __name__ == '__main__':
  main()
