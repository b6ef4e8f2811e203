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
    first --pages pages, from WARC and from JSON Lines: CPU time of the
    whole process tree, pages per CPU second, and their ratio.

  python benchmarks/warc.py [--data DIR] [--size-mb 300] [--pages 300]
"""

import argparse
import gzip
import io
import json
import os
import shutil
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
    small_warc = os.path.join(workdir, 'small.warc.gz')
    small_jsonl = os.path.join(workdir, 'small.jsonl.gz')
    write_archive(pages, small_warc, small_jsonl)
    extra = TWO_WORKERS + ['--no-index']
    runs = {}
    for name, flag, path in (
      ('pipeline: WARC', '--warc', small_warc),
      ('pipeline: JSON Lines', '--scraped', small_jsonl),
    ):
      run = run_pipeline(path, workdir, name.split()[-1].lower(), extra, input_flag=flag)
      runs[name] = run
      rows.append((name, sum(run.summary['outputs'].values()), run.cpu))
    print()
    print('| what | pages | CPU s | pages per CPU second |')
    print('| --- | ---: | ---: | ---: |')
    for name, count, cpu in rows:
      print('| %s | %d | %.1f | %.1f |' % (name, count, cpu, count / cpu if cpu else 0))
    print()
    print(
      'WARC / JSON Lines, pages per CPU second: read only %.2f, whole pipeline %.2f'
      % (
        (warc_pages / warc_cpu) / (jsonl_pages / jsonl_cpu),
        (rows[2][1] / rows[2][2]) / (rows[3][1] / rows[3][2]),
      )
    )
    for name, run in runs.items():
      print('%s: %.0f s wall, %.0f MB peak' % (name, run.seconds, run.peak / 1e6))
  finally:
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
  main()
