"""Throughput: the whole pipeline against trafilatura alone, on real pages.

Runs, in one invocation:
  * trafilatura alone (``trafilatura.extract``) over N real news pages, in one
    process: the baseline, the one unavoidable cost per page;
  * ``python -m pipelines.ingest`` over the same pages on the DirectRunner,
    with 1 worker and with 2 (multi-processing), timed end to end (start-up
    included), with the peak memory of its process tree;
  * the cost per stage, timing each stage's per-record functions in-process;
  * short records (feed items of about 100 words, plain text) through the
    pipeline on 2 workers.

Pages come from --data (default ../shared/data): the extraction sets' HTML.
When N is larger than the pages there are, pages are reused under other URLs
(they then also exercise exact dedup). Figures are printed as a table; ratios
compare against the baseline measured in the same run.

  python benchmarks/throughput.py [--data DIR] [--pages 600] [--short 4000]
"""

import argparse
import csv
import glob
import gzip
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def default_data():
  shared = os.path.join(ROOT, '..', 'shared', 'data')
  return shared if os.path.isdir(shared) else None


def load_pages(data, n):
  paths = sorted(glob.glob(os.path.join(data, 'extraction', '*', 'html', '*.html.gz')))
  if not paths:
    raise SystemExit('no pages under %s/extraction/*/html' % data)
  pages = []
  for path in paths:
    with gzip.open(path, 'rb') as f:
      pages.append(f.read().decode('utf-8', 'replace'))
  out = []
  for i in range(n):
    copy, page = divmod(i, len(pages))
    url = 'https://bench%d.example/%s' % (copy, os.path.basename(paths[page]))
    out.append({'url': url, 'html': pages[page]})
  return out


def load_short_records(data, n):
  path = os.path.join(data, 'topics', 'bbc', 'bbc_news.csv')
  records = []
  with open(path, encoding='utf-8', errors='replace') as f:
    for row in csv.DictReader(f):
      words = row['text'].split()
      for start in (0, 100, 200):
        if len(records) >= n:
          return records
        chunk = words[start:start + 100]
        if len(chunk) >= 60:
          records.append({'url': 'https://short.example/%s/%s/%d' % (
              row['category'], row['file'], start), 'title': row['title'],
                          'text': ' '.join(chunk)})
  return records


class TreeMemory:
  """Samples the resident memory of a process and its children (Linux)."""

  def __init__(self, pid):
    self._pid, self.peak, self._stop = pid, 0, threading.Event()
    self._thread = threading.Thread(target=self._run, daemon=True)
    self._thread.start()

  def _tree(self):
    pids, frontier = [self._pid], [self._pid]
    while frontier:
      pid = frontier.pop()
      try:
        with open('/proc/%d/task/%d/children' % (pid, pid)) as f:
          kids = [int(k) for k in f.read().split()]
      except OSError:
        kids = []
      pids += kids
      frontier += kids
    return pids

  def _rss(self, pid):
    try:
      with open('/proc/%d/status' % pid) as f:
        for line in f:
          if line.startswith('VmRSS:'):
            return int(line.split()[1]) * 1024
    except OSError:
      pass
    return 0

  def _run(self):
    while not self._stop.is_set():
      self.peak = max(self.peak, sum(self._rss(p) for p in self._tree()))
      time.sleep(0.2)

  def stop(self):
    self._stop.set()
    self._thread.join()
    return self.peak


def run_pipeline(records, workdir, name, extra):
  inputs = os.path.join(workdir, name + '.jsonl')
  if not os.path.exists(inputs):
    with open(inputs, 'w', encoding='utf-8') as f:
      for r in records:
        f.write(json.dumps(r) + '\n')
  output = os.path.join(workdir, name + '-out-' + str(len(extra)))
  cmd = [sys.executable, '-m', 'pipelines.ingest', '--scraped', inputs,
         '--output', output] + extra
  start = time.perf_counter()
  proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
  memory = TreeMemory(proc.pid)
  out, err = proc.communicate()
  elapsed = time.perf_counter() - start
  peak = memory.stop()
  if proc.returncode:
    raise SystemExit('pipeline failed:\n%s' % err[-3000:])
  with open(os.path.join(output, 'summary.json')) as f:
    summary = json.load(f)
  return elapsed, peak, summary


def trafilatura_alone(pages):
  import trafilatura
  start = time.perf_counter()
  for page in pages:
    trafilatura.extract(page['html'], url=page['url'])
  return time.perf_counter() - start


def stage_costs(pages):
  """Seconds per stage over the pages, calling each stage's plain functions."""
  from transforms.clean import ArticleCleaner
  from transforms.config import load_config
  from transforms.dedup import MinHasher
  from transforms.extract import build_article
  from transforms.language import LanguageDetector
  config = load_config()
  cleaner = ArticleCleaner(config['clean'])
  detector = LanguageDetector(config['language'])
  hasher = MinHasher(config['dedup']['num_perm'], config['dedup']['shingle_words'])
  costs = dict.fromkeys(('extract', 'clean', 'language', 'minhash'), 0.0)
  for page in pages:
    t0 = time.perf_counter()
    article = build_article(page, config['extract']['favor'],
                            config['extract']['min_extracted_chars'])
    t1 = time.perf_counter()
    stories = cleaner.clean(article)
    t2 = time.perf_counter()
    stories = [detector.label(s) for s in stories]
    t3 = time.perf_counter()
    for story in stories:
      hasher.signature(story['body'])
    t4 = time.perf_counter()
    costs['extract'] += t1 - t0
    costs['clean'] += t2 - t1
    costs['language'] += t3 - t2
    costs['minhash'] += t4 - t3
  return costs


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--data', default=default_data())
  parser.add_argument('--pages', type=int, default=600)
  parser.add_argument('--short', type=int, default=4000)
  args = parser.parse_args(argv)
  if not args.data:
    raise SystemExit('--data is required (../shared/data not found)')
  pages = load_pages(args.data, args.pages)
  mb = sum(len(p['html'].encode('utf-8')) for p in pages) / len(pages) / 1024
  print('%d pages, %.0f KB of HTML on average' % (len(pages), mb))
  base = trafilatura_alone(pages)
  rows = [('trafilatura alone, 1 process', base, None, 1.0)]
  with tempfile.TemporaryDirectory() as workdir:
    one, mem1, _ = run_pipeline(pages, workdir, 'pages', [])
    rows.append(('newsbeam, DirectRunner, 1 worker', one, mem1, one / base))
    two, mem2, summary = run_pipeline(pages, workdir, 'pages', [
        '--direct_num_workers=2', '--direct_running_mode=multi_processing'])
    rows.append(('newsbeam, DirectRunner, 2 workers', two, mem2, two / base))
    print('\n| run | seconds | pages/s | peak memory | time / trafilatura |')
    print('| --- | ---: | ---: | ---: | ---: |')
    for name, secs, mem, ratio in rows:
      print('| %s | %.1f | %.1f | %s | %.2f |' % (
          name, secs, len(pages) / secs,
          '%.0f MB' % (mem / 2**20) if mem else 'n/a', ratio))
    print('\noutputs of the 2-worker run: %s' % json.dumps(summary['outputs']))
    costs = stage_costs(pages[:min(len(pages), 200)])
    n = min(len(pages), 200)
    print('\n| stage (in-process, %d pages) | ms per page | share |' % n)
    print('| --- | ---: | ---: |')
    total = sum(costs.values())
    for stage, secs in costs.items():
      print('| %s | %.1f | %.0f%% |' % (stage, 1000 * secs / n, 100 * secs / total))
    if args.short:
      short = load_short_records(args.data, args.short)
      secs, mem, summary = run_pipeline(short, workdir, 'short', [
          '--direct_num_workers=2', '--direct_running_mode=multi_processing'])
      print('\nshort records (about 100 words, text): %d in %.1f s: %.0f '
            'records/s on 2 workers, peak %.0f MB; outputs %s' % (
                len(short), secs, len(short) / secs, mem / 2**20,
                json.dumps(summary['outputs'])))


if __name__ == '__main__':
  main()
