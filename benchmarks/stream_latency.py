"""Streaming latency: how long after a story appears in a feed is it written?

Serves one RSS feed from 127.0.0.1 where BBC News stories
(``topics/bbc/bbc_news.csv`` of --data) appear one by one, --per-poll of
them per --poll-interval seconds, the last 20 re-listed each time, and runs
``pipelines.stream`` on it for --polls polls. It prints, per poll, the articles and duplicates written and
the latency from first sighting to written (what the stream records), and
over all stories the time from the story's appearance in the feed to its
record written (what a reader waits). The baseline, in the same run, is one
batch ``pipelines.ingest`` over the feed with every story in it: the ratios
say what the per-poll latency costs beyond one batch pass.

  python benchmarks/stream_latency.py [--data ../shared/data] [--polls 5]
      [--poll-interval 10] [--per-poll 10]
"""

import argparse
import csv
import glob
import html
import http.server
import json
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

from pipelines import ingest, stream
from transforms.streaming.clock import epoch_of, latency_figures

RELISTED = 20


def default_data():
  here = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
  return os.path.normpath(os.path.join(here, '..', 'shared', 'data'))


def load_stories(data, count):
  path = os.path.join(data, 'topics', 'bbc', 'bbc_news.csv')
  with open(path, encoding='utf-8') as f:
    rows = list(csv.DictReader(f))
  seen, stories = set(), []
  for row in rows:  # the file holds exact duplicates: keep the first
    if row['text'] in seen:
      continue
    seen.add(row['text'])
    stories.append(
      (row['category'] + '-' + row['file'].replace('.txt', ''), row['title'], row['text'])
    )
    if len(stories) == count:
      break
  return stories


def rss(stories):
  items = ''.join(
    '<item><title>%s</title><link>https://bbc.example/%s</link>'
    '<description>%s</description></item>' % (html.escape(title), slug, html.escape(text))
    for slug, title, text in stories
  )
  return (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>%s</channel></rss>' % items
  ).encode('utf-8')


class GrowingFeed:
  """The feed at a time: stories appear one by one, --per-poll of them per
  poll interval, at even steps from ``start``; the newest are listed."""

  def __init__(self, stories, per_poll, interval, start):
    self.stories = stories
    self.step = interval / per_poll
    self.listed = RELISTED + per_poll
    self.start = start

  def appeared_at(self, index):
    return self.start + index * self.step

  def items(self, now):
    shown = [s for i, s in enumerate(self.stories) if self.appeared_at(i) <= now]
    return shown[-self.listed :]


def serve(feed):
  class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
      body = rss(feed.items(time.time()))
      self.send_response(200)
      self.send_header('Content-Type', 'application/rss+xml')
      self.send_header('Content-Length', str(len(body)))
      self.end_headers()
      self.wfile.write(body)

    def log_message(self, *args):
      pass

  server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
  threading.Thread(target=server.serve_forever, daemon=True).start()
  return server


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--data', default=default_data())
  parser.add_argument('--polls', type=int, default=5)
  parser.add_argument('--poll-interval', type=float, default=10)
  parser.add_argument('--per-poll', type=int, default=10)
  args = parser.parse_args(argv)
  stories = load_stories(args.data, args.polls * args.per_poll)
  work = tempfile.mkdtemp(prefix='newsbeam-stream-bench-')
  feed = GrowingFeed(stories, args.per_poll, args.poll_interval, time.time())
  appeared = {slug: feed.appeared_at(i) for i, (slug, _, _) in enumerate(stories)}
  server = serve(feed)
  url = 'http://127.0.0.1:%d/news.rss' % server.server_port
  summary = stream.run(
    [
      '--feeds',
      url,
      '--allow-private-hosts',
      '--output',
      os.path.join(work, 'stream'),
      '--poll-interval',
      str(args.poll_interval),
      '--polls',
      str(args.polls),
    ]
  )

  # Baseline: one batch pass over a feed holding every story.
  batch_file = os.path.join(work, 'all.rss')
  with open(batch_file, 'wb') as f:
    f.write(rss(stories))
  started = time.time()
  ingest.run(['--feeds', batch_file, '--output', os.path.join(work, 'batch'), '--no-index'])
  batch_seconds = time.time() - started

  waits, slugs = [], []
  for path in glob.glob(os.path.join(work, 'stream', 'articles', 'poll=*', 'part-*')):
    poll = os.path.basename(os.path.dirname(path))
    written = epoch_of(next(p['written_at'] for p in summary['polls'] if p['poll'] == poll))
    with open(path, encoding='utf-8') as f:
      for line in f:
        slug = json.loads(line)['url'].rsplit('/', 1)[1]
        slugs.append(slug)
        waits.append(written - appeared[slug])
  server.shutdown()

  print(
    '\nstream: %d polls every %.0f s, %d new stories per poll, %d '
    're-listed' % (args.polls, args.poll_interval, args.per_poll, RELISTED)
  )
  print('| poll | articles | duplicates | first seen -> written p50 | max |')
  print('| --- | --- | --- | --- | --- |')
  for i, poll in enumerate(summary['polls'], 1):
    latency = poll['latency_seconds']
    print(
      '| %d | %d | %d | %s | %s |'
      % (
        i,
        poll['outputs']['articles'],
        poll['outputs']['duplicates'],
        '%.1f s' % latency['p50'] if latency['count'] else '-',
        '%.1f s' % latency['max'] if latency['count'] else '-',
      )
    )
  sighting = latency_figures(
    l for p in summary['polls'] for l in [p['latency_seconds']['max']] if l is not None
  )
  appeared = latency_figures(waits)
  print('\n| measure | p50 | p90 | max | / batch pass |')
  print('| --- | --- | --- | --- | --- |')
  print(
    '| batch pass over all %d stories (baseline) | %.1f s | | | 1.00 |'
    % (len(stories), batch_seconds)
  )
  print(
    '| first seen -> written (per poll, max) | %.1f s | %.1f s | %.1f s '
    '| %.2f |'
    % (sighting['p50'], sighting['p90'], sighting['max'], sighting['p50'] / batch_seconds)
  )
  print(
    '| appeared in feed -> written (%d stories) | %.1f s | %.1f s | '
    '%.1f s | %.2f |'
    % (
      appeared['count'],
      appeared['p50'],
      appeared['p90'],
      appeared['max'],
      appeared['p50'] / batch_seconds,
    )
  )
  print(
    'stories written: %d of %d (the others appeared after the last '
    'poll); written more than once: %d'
    % (len(set(slugs)), len(stories), len(slugs) - len(set(slugs)))
  )


if __name__ == '__main__':
  main()
