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
Then ``extract_page`` (one page: parse, metadata, main text, stories, lead)
against trafilatura's ``extract`` from HTML (text only, and with its
metadata), with the ``extract_page`` of git commit --before (default: the
commit before trafilatura's author search in one walk) in the same run, page by page in turn: CPU ms
per page (each page's least of --rounds rounds), and the pages whose text,
title, authors, date, description, canonical URL or stories differ between
before and now, listed.
Each system first reads every page once, untimed (warm caches, as in a
long-running worker). CPU time is what is compared (the machine may be
shared: wall times are noisy); ratios are against trafilatura alone in the
same run.

  .venv/bin/python benchmarks/extract_cost.py [--data ../shared/data] [--limit N]
      [--before REF] [--rounds N] [--skip-stage]
"""

import argparse
import glob
import gzip
import importlib.util
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)

from benchmarks.throughput import checkout, descendants  # noqa: E402

# The commit before the extraction's metadata changes (htmldate's fast date
# search first, tried and not kept; trafilatura's author search in one walk).
BEFORE = 'bc0d883'
FIELDS = ('text', 'title', 'authors', 'date', 'description', 'canonical_url', 'stories')


def load_pages(data, limit):
  paths = sorted(glob.glob(os.path.join(data, 'extraction', '*', 'html', '*.html.gz')))[:limit]
  names = [os.path.basename(p)[: -len('.html.gz')] for p in paths]
  if not paths:
    raise SystemExit('no pages under %s/extraction/*/html' % data)
  pages = []
  for n, path in enumerate(paths):
    with gzip.open(path, 'rb') as f:
      pages.append(
        {
          'url': 'https://bench.example/%d' % n,
          'name': names[n],
          'html': f.read().decode('utf-8', 'replace'),
        }
      )
  return pages


def children_cpu_seconds():
  """CPU seconds used so far by this process's live descendants (Linux):
  the time-budget child is forked by the fork server, a child of ours."""
  total = 0.0
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
  cpu, children, wall = (time.process_time(), children_cpu_seconds(), time.perf_counter())
  for page in pages:
    call(page)
  cpu = time.process_time() - cpu
  if with_children:
    cpu += children_cpu_seconds() - children
  wall = time.perf_counter() - wall
  return 1000 * cpu / len(pages), 1000 * wall / len(pages)


def extract_module(code):
  """transforms/extract.py of the checkout under `code`, imported as a module
  of its own (its imports of other newsbeam modules resolve to this
  checkout's)."""
  spec = importlib.util.spec_from_file_location(
    'extract_before', os.path.join(code, 'transforms', 'extract.py')
  )
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def through_stage(stage, page):
  """The stage's DoFn on one page, in a bundle of its own."""
  from apache_beam.transforms.window import GlobalWindow
  from apache_beam.utils.windowed_value import PANE_INFO_UNKNOWN

  stage.start_bundle()
  outputs = list(stage.process(page, 0, GlobalWindow(), PANE_INFO_UNKNOWN))
  return outputs + list(stage.finish_bundle())


def stage_rows(pages, config):
  """[(name, (CPU ms, wall ms))] of the stage as the pipeline runs it."""
  from trafilatura import bare_extraction

  from transforms.extract import _ExtractFn, build_articles
  from transforms.text.budget import TimeBudget

  stage = _ExtractFn(dict(config, progress_seconds=0))
  stage.setup()
  round_trip = TimeBudget(30, len)
  try:
    for page in pages:
      bare_extraction(page['html'], url=page['url'])
      build_articles(page, config)
      through_stage(stage, page)
      round_trip(page['html'])
    return [
      (
        'trafilatura alone (bare_extraction, defaults)',
        timed(pages, lambda p: bare_extraction(p['html'], url=p['url'])),
      ),
      ('newsbeam build_articles, in-process', timed(pages, lambda p: build_articles(p, config))),
      (
        'newsbeam extract DoFn, time budget on (this process + child)',
        timed(pages, lambda p: through_stage(stage, p), with_children=True),
      ),
      (
        'time budget round trip alone (HTML there, its length back)',
        timed(pages, lambda p: round_trip(p['html']), with_children=True),
      ),
    ]
  finally:
    stage.teardown()
    round_trip.close()


def page_rows(pages, config, before, rounds):
  """([(name, (CPU ms, wall ms))], {name: [(field, before, now)]}):
  trafilatura's extract and extract_page before and now, and the fields each
  page's records differ in."""
  import trafilatura

  from transforms import extract

  options = (
    config['favor'],
    config['min_extracted_chars'],
    config['story_min_words'],
    config['story_min_paragraphs'],
    config['lead_min_words'],
  )
  systems = [
    ('trafilatura.extract, text only', lambda p: trafilatura.extract(p['html'], url=p['url'])),
    (
      'trafilatura.extract, with_metadata=True',
      lambda p: trafilatura.extract(p['html'], url=p['url'], with_metadata=True),
    ),
    (
      'extract_page before (%s)' % before[0],
      lambda p: before[1].extract_page(p['html'], p['url'], *options),
    ),
    ('extract_page now', lambda p: extract.extract_page(p['html'], p['url'], *options)),
  ]
  differences = {}
  for page in pages:  # the untimed pass, which also compares the records
    for _, call in systems[:2]:
      call(page)
    old, new = systems[2][1](page), systems[3][1](page)
    changed = [(f, old[f], new[f]) for f in FIELDS if old[f] != new[f]]
    if changed:
      differences[page['name']] = changed
  # Page by page, each system in turn (the order rotating), so that a busy
  # spell of the shared machine weighs on all of them alike; per system and
  # page the least of the rounds.
  cpu = [[float('inf')] * len(systems) for _ in pages]
  wall = [[float('inf')] * len(systems) for _ in pages]
  for round_ in range(rounds):
    for n, page in enumerate(pages):
      for k in range(len(systems)):
        s = (k + n + round_) % len(systems)
        start, clock = time.perf_counter(), time.process_time()
        systems[s][1](page)
        cpu[n][s] = min(cpu[n][s], time.process_time() - clock)
        wall[n][s] = min(wall[n][s], time.perf_counter() - start)
  return [
    (
      name,
      (1000 * sum(c[s] for c in cpu) / len(pages), 1000 * sum(w[s] for w in wall) / len(pages)),
    )
    for s, (name, _) in enumerate(systems)
  ], differences


def _shown(field, value):
  if field == 'text':
    return '%d characters' % len(value)
  if field == 'stories':
    return '%d stories' % len(value)
  return repr(value)


def print_table(rows):
  base = rows[0][1][0]
  print('| extraction | CPU ms/page | wall ms/page | CPU / first row |')
  print('| --- | ---: | ---: | ---: |')
  for name, (cpu, wall) in rows:
    print('| %s | %.1f | %.1f | %.2f |' % (name, cpu, wall, cpu / base))


def run(argv=None):
  default_data = os.path.join(ROOT, '..', 'shared', 'data')
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument(
    '--data',
    default=default_data if os.path.isdir(default_data) else None,
    help='the shared data folder',
  )
  parser.add_argument('--limit', type=int, default=None, help='at most this many pages')
  parser.add_argument(
    '--before', metavar='REF', default=BEFORE, help='git commit whose extract_page is "before"'
  )
  parser.add_argument(
    '--rounds',
    type=int,
    default=2,
    help='timed rounds of the page comparison (the least of each page kept)',
  )
  parser.add_argument(
    '--skip-stage', action='store_true', help='only the page comparison (no DoFn, no budget)'
  )
  args = parser.parse_args(argv)
  if not args.data:
    parser.error('--data is required (no ../shared/data here)')
  from configs.loading import load_config

  config = load_config()['extract']
  pages = load_pages(args.data, args.limit)
  kb = sum(len(p['html'].encode('utf-8')) for p in pages) / len(pages) / 1024
  print('%d pages, %.0f KB of HTML on average' % (len(pages), kb))
  # One pass first, for every system: imports and caches (dateparser
  # compiles its patterns for each language it meets) are paid once per
  # worker, not per page.
  if not args.skip_stage:
    print_table(stage_rows(pages, config))
    print()
  with tempfile.TemporaryDirectory() as workdir:
    before = (args.before, extract_module(checkout(args.before, workdir)))
    rows, differences = page_rows(pages, config, before, args.rounds)
  print_table(rows)
  now, old = rows[3][1][0], rows[2][1][0]
  print(
    '\nextract_page now / before: %.2f; above trafilatura text only: '
    '%.1f ms/page before, %.1f now' % (now / old, old - rows[0][1][0], now - rows[0][1][0])
  )
  print('\n%d of %d pages differ between before and now' % (len(differences), len(pages)))
  for field in FIELDS:
    count = sum(any(f == field for f, _, _ in d) for d in differences.values())
    print('  %s: %d' % (field, count))
  for name, changed in sorted(differences.items()):
    for field, old_value, new_value in changed:
      print('  %s %s: %s -> %s' % (name, field, _shown(field, old_value), _shown(field, new_value)))


if __name__ == '__main__':
  run()
