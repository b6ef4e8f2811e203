"""Fetching article pages: the Fetcher against a bare requests session.

Serves the news pages of --data (scrapinghub's article-extraction benchmark:
70 publisher pages) from a server on 127.0.0.1, and fetches each one with
  baseline  requests.Session().get(url).text
  fetcher   transforms.fetch.Fetcher.fetch_article(url).text (robots.txt,
            politeness gate, streamed size cap, charset detection)
under two servers: one sending `Content-Type: text/html` (no charset), one
mislabelling every page `charset=ISO-8859-1`. It prints the time per page
(best of --repeat runs, and the fetcher/baseline ratio) and how many pages
each decodes into mojibake or replacement characters.

  python benchmarks/fetch_pages.py [--data ../shared/data] [--repeat 3]
"""

import argparse
import gzip
import http.server
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

import requests

from configs.loading import load_config
from transforms.fetch.client import Fetcher

PAGES = os.path.join('extraction', 'scrapinghub-dev', 'html')
# UTF-8 read as a single-byte charset ("Ã©", "â€™"), or bytes that did
# not decode.
MOJIBAKE = re.compile('[\u00c2\u00c3][\u0080-\u00bf]|\u00e2\u20ac|\ufffd')


def default_data():
  here = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
  return os.path.normpath(os.path.join(here, '..', 'shared', 'data'))


def load_pages(data):
  folder = os.path.join(data, PAGES)
  pages = {}
  for name in sorted(os.listdir(folder)):
    if name.endswith('.html.gz'):
      with gzip.open(os.path.join(folder, name)) as f:
        pages['/page/' + name[:16]] = f.read()
  return pages


def serve(pages, content_type):
  class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'  # keep-alive, as real servers do

    def do_GET(self):
      body = pages.get(self.path)
      status = 200 if body is not None else 404
      body = body if body is not None else b'not found'
      self.send_response(status)
      self.send_header('Content-Type', content_type)
      self.send_header('Content-Length', str(len(body)))
      self.end_headers()
      self.wfile.write(body)

    def log_message(self, *args):
      pass

  server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
  threading.Thread(target=server.serve_forever, daemon=True).start()
  return server


def run_baseline(urls):
  session = requests.Session()
  texts = [session.get(url, timeout=10).text for url in urls]
  session.close()
  return texts


def run_fetcher(urls, config):
  fetcher = Fetcher(config, allow_private_hosts=True)
  texts = [fetcher.fetch_article(url).text for url in urls]
  fetcher.close()
  return texts


def timed(fn, repeat):
  best, out = None, None
  for _ in range(repeat):
    start = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - start
    best = elapsed if best is None else min(best, elapsed)
  return best, out


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--data', default=default_data())
  parser.add_argument('--repeat', type=int, default=3)
  args = parser.parse_args(argv)
  if not os.path.isdir(os.path.join(args.data, PAGES)):
    raise SystemExit('no pages under %s' % os.path.join(args.data, PAGES))
  pages = load_pages(args.data)
  config = dict(load_config()['fetch'], per_host_delay=0)
  megabytes = sum(map(len, pages.values())) / 1e6
  print('%d pages, %.1f MB, best of %d runs' % (len(pages), megabytes, args.repeat))
  # The reference: pages whose own text (read as the UTF-8 they all are)
  # already holds mojibake or U+FFFD, put there by the publisher.
  in_source = sum(1 for body in pages.values() if MOJIBAKE.search(body.decode('utf-8', 'replace')))
  print('pages holding mojibake in their own UTF-8 text: %d' % in_source)
  print(
    '| server Content-Type | ms/page baseline | ms/page fetcher | ratio '
    '| mojibake pages baseline | mojibake pages fetcher |'
  )
  print('| --- | --- | --- | --- | --- | --- |')
  for content_type in ('text/html', 'text/html; charset=ISO-8859-1'):
    server = serve(pages, content_type)
    urls = ['http://127.0.0.1:%d%s' % (server.server_port, path) for path in pages]
    base_time, base_texts = timed(lambda: run_baseline(urls), args.repeat)
    fetch_time, fetch_texts = timed(lambda: run_fetcher(urls, config), args.repeat)
    server.shutdown()
    server.server_close()
    bad = lambda texts: sum(1 for t in texts if MOJIBAKE.search(t))
    print(
      '| `%s` | %.2f | %.2f | %.2f | %d | %d |'
      % (
        content_type,
        1000 * base_time / len(urls),
        1000 * fetch_time / len(urls),
        fetch_time / base_time,
        bad(base_texts),
        bad(fetch_texts),
      )
    )


if __name__ == '__main__':
  main()
