"""Web archives: pages per second per core read from WARC files, against
the same pages read from JSON Lines, in the same run.

  * builds, in a scratch folder, a synthetic WARC file of about --size-mb
    MB from the benchmark pages (--data: the extraction sets' HTML, reused
    under other URLs), gzipped per record as Common Crawl writes CC-NEWS,
    each page a request, a response and a metadata record; and a JSON Lines
    file (gzipped) of the same pages. Neither is kept;
  * reading only: the WARC file indexed and read span by span
    (``transforms/io/warc.py``, what each worker does) and the JSON Lines
    file read and parsed (``transforms/io/scraped.py``), in this process:
    CPU seconds, pages per CPU second;
  * the whole pipeline (``python -m pipelines.ingest`` on 2 workers) on the
    first --pages pages, from WARC and from JSON Lines, and on the first
    --startup-pages pages of each (the runner's start-up, to take out): the
    runs interleaved, WARC and JSON Lines in turn, --rounds times. CPU time
    of the whole process tree; per round, pages per CPU second of each and
    their ratio, and CPU seconds per page beyond start-up; then the
    medians.

  python benchmarks/warc.py [--data DIR] [--size-mb 300] [--pages 300] [--rounds 2]
"""

import argparse
import gzip
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.throughput import TWO_WORKERS, default_data, load_pages, run_pipeline  # noqa: E402
from configs.loading import load_config  # noqa: E402
from transforms.io.scraped import bounded_lines, parse_scraped_line  # noqa: E402
from transforms.io.warc import SKIPPED, read_warc_records, record_offsets, spans  # noqa: E402


def write_archive(pages, warc_path, jsonl_path, target_bytes=None):
  """The pages as a per-record gzipped WARC file and as gzipped JSON
  Lines; with `target_bytes`, both files repeat the pages (their gzip
  members copied as they are: building stays quick) until the WARC file is
  that large. -> pages written."""
  from warcio.statusandheaders import StatusAndHeaders
  from warcio.warcwriter import WARCWriter

  warc, lines = io.BytesIO(), []
  writer = WARCWriter(warc, gzip=True)
  for page in pages:
    url, body = page['url'], page['html'].encode('utf-8')
    request = StatusAndHeaders('GET / HTTP/1.1', [('Host', 'bench.example')], is_http_request=True)
    writer.write_record(
      writer.create_warc_record(url, 'request', payload=io.BytesIO(b''), http_headers=request)
    )
    http = StatusAndHeaders(
      '200 OK', [('Content-Type', 'text/html; charset=utf-8')], protocol='HTTP/1.1'
    )
    writer.write_record(
      writer.create_warc_record(url, 'response', payload=io.BytesIO(body), http_headers=http)
    )
    meta = b'fetchTimeMs: 120\r\n'
    writer.write_record(
      writer.create_warc_record(url, 'metadata', payload=io.BytesIO(meta), length=len(meta))
    )
    lines.append(json.dumps({'url': url, 'html': page['html']}) + '\n')
  jsonl = gzip.compress(''.join(lines).encode('utf-8'))
  copies = 1 if target_bytes is None else -(-target_bytes // len(warc.getvalue()))
  with open(warc_path, 'wb') as w, open(jsonl_path, 'wb') as j:
    for _ in range(copies):
      w.write(warc.getvalue())
      j.write(jsonl)
  return copies * len(pages)


def read_warc(path, split_bytes):
  """Pages read from the WARC file as the workers read it: -> (pages, CPU s)."""
  start, pages = time.process_time(), 0
  with open(path, 'rb') as f:
    offsets, splittable = record_offsets(f)
    for first, end in spans(offsets, splittable, split_bytes):
      for kind, _ in read_warc_records(f, path, first, end):
        pages += kind != SKIPPED
  return pages, time.process_time() - start


def read_jsonl(path, max_bytes):
  """Pages read and parsed from the JSON Lines file: -> (pages, CPU s)."""
  start, pages = time.process_time(), 0
  with gzip.open(path, 'rb') as f:
    for line in bounded_lines(f, max_bytes):
      kind, _ = parse_scraped_line(line, max_bytes)
      pages += kind == 'page'
  return pages, time.process_time() - start


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--data', default=default_data())
  parser.add_argument('--size-mb', type=int, default=300)
  parser.add_argument('--pages', type=int, default=300)
  parser.add_argument('--startup-pages', type=int, default=3)
  parser.add_argument('--rounds', type=int, default=2)
  args = parser.parse_args(argv)
  if not args.data:
    raise SystemExit('give --data (the shared data folder)')
  config = load_config()
  workdir = tempfile.mkdtemp(prefix='newsbeam-warc-')
  try:
    pages = load_pages(args.data, args.pages)
    big_warc = os.path.join(workdir, 'big.warc.gz')
    big_jsonl = os.path.join(workdir, 'big.jsonl.gz')
    built = time.perf_counter()
    n = write_archive(pages, big_warc, big_jsonl, args.size_mb * 1024 * 1024)
    print(
      'built %d pages: WARC %.0f MB, JSON Lines %.0f MB (%.0f s)'
      % (
        n,
        os.path.getsize(big_warc) / 1e6,
        os.path.getsize(big_jsonl) / 1e6,
        time.perf_counter() - built,
      )
    )
    rows = []
    warc_pages, warc_cpu = read_warc(big_warc, config['read']['warc_split_bytes'])
    jsonl_pages, jsonl_cpu = read_jsonl(big_jsonl, config['read']['max_record_bytes'])
    rows.append(('read only: WARC', warc_pages, warc_cpu))
    rows.append(('read only: JSON Lines', jsonl_pages, jsonl_cpu))
    sources = [
      (name, flag, os.path.join(workdir, 'full.' + suffix), os.path.join(workdir, 'few.' + suffix))
      for name, flag, suffix in (
        ('WARC', '--warc', 'warc.gz'),
        ('JSON Lines', '--scraped', 'jsonl.gz'),
      )
    ]
    write_archive(pages, sources[0][2], sources[1][2])
    write_archive(pages[: args.startup_pages], sources[0][3], sources[1][3])
    extra = TWO_WORKERS + ['--no-index']
    rounds = []
    for _ in range(args.rounds):
      measured = {}
      for name, flag, full, few in sources:
        for kind, path in (('full', full), ('startup', few)):
          run = run_pipeline(path, workdir, 'bench', extra, input_flag=flag)
          measured[name, kind] = (sum(run.summary['outputs'].values()), run.cpu)
      rounds.append(measured)
    print()
    print('| what | pages | CPU s | pages per CPU second |')
    print('| --- | ---: | ---: | ---: |')
    for name, count, cpu in rows:
      print('| %s | %d | %.1f | %.1f |' % (name, count, cpu, count / cpu if cpu else 0))
    print()
    print(
      '| round | source | pages | CPU s | start-up CPU s (%d pages) | pages per CPU s '
      '| CPU s per page beyond start-up |' % args.startup_pages
    )
    print('| ---: | --- | ---: | ---: | ---: | ---: | ---: |')
    ratios, net_ratios, per_page = [], [], {name: [] for name, *_ in sources}
    for i, measured in enumerate(rounds, 1):
      rates, nets = {}, {}
      for name, *_ in sources:
        count, cpu = measured[name, 'full']
        small, small_cpu = measured[name, 'startup']
        rates[name] = count / cpu
        nets[name] = (cpu - small_cpu) / (count - small)
        per_page[name].append(nets[name])
        print(
          '| %d | %s | %d | %.1f | %.1f | %.2f | %.3f |'
          % (i, name, count, cpu, small_cpu, rates[name], nets[name])
        )
      ratios.append(rates['WARC'] / rates['JSON Lines'])
      net_ratios.append(nets['JSON Lines'] / nets['WARC'])
    print()
    print(
      'WARC / JSON Lines, pages per CPU second: read only %.2f; whole pipeline per round %s '
      '(median %.2f), beyond start-up %s (median %.2f)'
      % (
        (warc_pages / warc_cpu) / (jsonl_pages / jsonl_cpu),
        ', '.join('%.2f' % r for r in ratios),
        statistics.median(ratios),
        ', '.join('%.2f' % r for r in net_ratios),
        statistics.median(net_ratios),
      )
    )
    for name, values in per_page.items():
      print(
        '%s: median %.3f CPU s per page beyond start-up = %.0f vCPU hours per million pages'
        % (name, statistics.median(values), statistics.median(values) * 1e6 / 3600)
      )
  finally:
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
  main()
