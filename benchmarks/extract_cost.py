"""Extraction cost: newsbeam's extract stage against trafilatura alone.

On the extraction sets' real pages, in one process and one run:
  * trafilatura alone (``bare_extraction`` with its defaults): the baseline,
    the one unavoidable cost per page;
  * ``build_articles`` in-process: newsbeam's extraction of a page (main text,
    metadata, stories of a multi-story page), no time budget;
  * the stage's DoFn as the pipeline runs it (``extract.timeout_seconds`` on):
    the page sent to the time-budget child process and its articles back, CPU
    of this process and of the child counted;
  * the time budget's round trip alone: each page's HTML sent to the child,
    which answers its length (what the child process adds per page).
Each system first reads every page once, untimed (warm caches, as in a
long-running worker). CPU time is what is compared (the machine may be
shared: wall times are noisy); ratios are against trafilatura alone in the
same run.

  .venv/bin/python benchmarks/extract_cost.py [--data ../shared/data] [--limit N]
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

from benchmarks.throughput import descendants  # noqa: E402


def load_pages(data, limit):
  paths = sorted(glob.glob(os.path.join(data, 'extraction', '*', 'html',
                                        '*.html.gz')))[:limit]
  if not paths:
    raise SystemExit('no pages under %s/extraction/*/html' % data)
  pages = []
  for n, path in enumerate(paths):
    with gzip.open(path, 'rb') as f:
      pages.append({'url': 'https://bench.example/%d' % n,
                    'html': f.read().decode('utf-8', 'replace')})
  return pages


def children_cpu_seconds():
  """CPU seconds used so far by this process's live descendants (Linux):
  the time-budget child is forked by the fork server, a child of ours."""
  total = 0.
  for kid in descendants(os.getpid()):
    try:
      with open('/proc/%d/stat' % kid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
      continue
    total += (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
  return total


def timed(pages, call, with_children=False):
  """(CPU ms per page, wall ms per page) of call(page) over the pages."""
  cpu, children, wall = (time.process_time(), children_cpu_seconds(),
                         time.perf_counter())
  for page in pages:
    call(page)
  cpu = time.process_time() - cpu
  if with_children:
    cpu += children_cpu_seconds() - children
  wall = time.perf_counter() - wall
  return 1000 * cpu / len(pages), 1000 * wall / len(pages)


def run(argv=None):
  default_data = os.path.join(ROOT, '..', 'shared', 'data')
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--data', default=default_data if os.path.isdir(
      default_data) else None, help='the shared data folder')
  parser.add_argument('--limit', type=int, default=None,
                      help='at most this many pages')
  args = parser.parse_args(argv)
  if not args.data:
    parser.error('--data is required (no ../shared/data here)')
  from trafilatura import bare_extraction

  from transforms.budget import TimeBudget
  from transforms.config import load_config
  from transforms.extract import _ExtractFn, build_articles
  config = load_config()['extract']
  pages = load_pages(args.data, args.limit)
  kb = sum(len(p['html'].encode('utf-8')) for p in pages) / len(pages) / 1024
  # One pass first, for every system: imports and caches (dateparser
  # compiles its patterns for each language it meets) are paid once per
  # worker, not per page.
  stage = _ExtractFn(dict(config, progress_seconds=0))
  stage.setup()
  round_trip = TimeBudget(30, len)
  try:
    for page in pages:
      bare_extraction(page['html'], url=page['url'])
      build_articles(page, config)
      list(stage.process(page))
      round_trip(page['html'])
    rows = [
        ('trafilatura alone (bare_extraction, defaults)', timed(
            pages, lambda p: bare_extraction(p['html'], url=p['url']))),
        ('newsbeam build_articles, in-process', timed(
            pages, lambda p: build_articles(p, config))),
        ('newsbeam extract DoFn, time budget on (this process + child)',
         timed(pages, lambda p: list(stage.process(p)), with_children=True)),
        ('time budget round trip alone (HTML there, its length back)',
         timed(pages, lambda p: round_trip(p['html']), with_children=True)),
    ]
  finally:
    stage.teardown()
    round_trip.close()
  base = rows[0][1][0]
  print('%d pages, %.0f KB of HTML on average' % (len(pages), kb))
  print('| extraction | CPU ms/page | wall ms/page | CPU / trafilatura |')
  print('| --- | ---: | ---: | ---: |')
  for name, (cpu, wall) in rows:
    print('| %s | %.1f | %.1f | %.2f |' % (name, cpu, wall, cpu / base))


if __name__ == '__main__':
  run()
