"""Deduplication benchmark: precision and recall on syndicated, edited and
cut-short copies of the BBC news set, and how time and memory grow with the
number of documents.

  .venv/bin/python -m benchmarks.dedup [--data ../shared/data]
      [--scales 1000,10000,50000] [--skip-quality]

Corpus (built in memory from topics/bbc/bbc_news.csv, never written out):
each BBC row is an original story published on one of five sites, one
paragraph per sentence as news sites print it, under that site's menus and
footers. Every original gets three copies on other sites, under *their*
menus and footers:
  syndicated  the same text;
  edited      about 1% of the words replaced;
  cut short   the leading 85% of the paragraphs.
Distinct stories published on the same site share its menus and footers:
they are the hard negatives. The rows of the CSV that are exact duplicates
of each other are one story. Every document goes through the real clean
stage (CleanArticles) before Deduplicate, as in the pipeline, so dedup sees
what the pipeline gives it.

Quality: pairwise precision and recall of "same cluster" against the
stories, on the DirectRunner.

Scaling: corpora of N documents; beyond the 2,225 real stories, new distinct
stories are made by a fixed word-for-word substitution of the vocabulary
(the same lengths and word statistics, other shingles), each with the same
three copies, so the mix of duplicates is the same at every size. Each size
runs in a fresh process; its wall time, CPU time (the machine is shared, so
CPU time is the figure to compare) and peak resident memory (VmHWM) are
reported, with ratios to the smallest size. The DirectRunner keeps every
PCollection in memory and spends most of its time moving elements between
transforms: the figures show how the work grows, not what a cluster does.
"""

import argparse
import csv
import hashlib
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from typing import Any, Dict, Iterator, List, Tuple

import apache_beam as beam
import numpy as np
from apache_beam.options.pipeline_options import PipelineOptions

from configs.loading import load_config
from transforms import schema
from transforms.clean import CleanArticles
from transforms.dedup.batch import Deduplicate
from transforms.text.page import comparable

BBC_CSV = os.path.join('topics', 'bbc', 'bbc_news.csv')
SITES = {
  'dailyherald.example': (
    [
      'Skip to main content',
      'Home | News | Sport | Business | Opinion | Culture | Weather',
      'Sign in | Subscribe',
    ],
    [
      'Share this article',
      'Facebook Twitter Email',
      'Read more: Morning briefing from our newsroom',
      '© 2024 Daily Herald Media Ltd. All rights reserved.',
      'Terms of use | Privacy policy | Cookie settings | Contact us',
    ],
  ),
  'metro-wire.example': (
    [
      'MENU',
      'World  UK  Politics  Money  Tech  Science  Health  Travel',
      'Breaking news alerts: sign up for free',
    ],
    [
      'Follow us on Facebook, Twitter and Instagram',
      'Related articles',
      'Advertisement',
      'We use cookies to improve your experience. By continuing you agree to our cookie policy.',
      'Metro Wire is not responsible for the content of external sites.',
    ],
  ),
  'coastpost.example': (
    ['Coast Post', 'Latest | Local | Region | Nation | World | Sport | Podcasts | Newsletters'],
    [
      'Tags: news, region, latest',
      'Post a comment',
      'Copyright 2024 Coast Post Publishing. Registered in England No. 01234567.',
      'About us | Careers | Advertise with us | Corrections',
    ],
  ),
  'newsroom24.example': (
    ['Newsroom24', 'Top stories  Most read  Video  Live  Opinion', 'Tuesday 24 November 2026'],
    [
      'Print',
      'Email',
      'Recommended stories',
      'Subscribe to our newsletter',
      'Newsroom24 is part of the Example Media Group. Contact the newsroom: tips@newsroom24.example',
    ],
  ),
  'capitalnews.example': (
    ['Capital News', 'Search', 'Politics · Economy · Society · Culture · Sport · Science'],
    [
      'Photo: Capital News archive',
      'Click here to download our app',
      'Loading...',
      '© Capital News 2024',
      'Capital News, 1 Example Street, Capital City',
    ],
  ),
}
SENTENCE_END = re.compile(r'(?<=[.!?"\'])\s+(?=[A-Z"\'])')
WORD = re.compile(r'[A-Za-z]+')
EDIT_SHARE = 0.01
KEPT_SHARE = 0.85
KINDS = ('original', 'syndicated', 'edited', 'cut_short')


def read_bbc(data: str) -> List[Dict[str, str]]:
  with open(os.path.join(data, BBC_CSV), encoding='utf-8', newline='') as f:
    return list(csv.DictReader(f))


def sentence_paragraphs(text: str) -> List[str]:
  """One paragraph per sentence: the CSV merges the site's short paragraphs."""
  return [s.strip() for p in text.split('\n\n') for s in SENTENCE_END.split(p) if s.strip()]


class Vocabulary:
  """Word-for-word substitutions that make new distinct stories."""

  def __init__(self, rows: List[Dict[str, str]]):
    self.words = sorted({w.lower() for r in rows for w in WORD.findall(r['text'])})

  def cipher(self, generation: int) -> Dict[str, str]:
    if generation == 0:
      return {}
    order = np.random.RandomState(generation).permutation(len(self.words))
    return {w: self.words[i] for w, i in zip(self.words, order)}


def substitute(text: str, mapping: Dict[str, str]) -> str:
  """Each word replaced by its mapping, capitals kept (sentences still
  start with one)."""
  if not mapping:
    return text

  def replace(match):
    word = match.group(0)
    new = mapping.get(word.lower(), word)
    return new.capitalize() if word[0].isupper() else new

  return WORD.sub(replace, text)


def edit_words(
  paragraphs: List[str], vocabulary: List[str], rng: np.random.RandomState
) -> List[str]:
  """Replaces about EDIT_SHARE of the words (at least one) by other words."""
  words = [p.split(' ') for p in paragraphs]
  flat = [(i, j) for i, p in enumerate(words) for j in range(len(p))]
  count = max(1, int(round(EDIT_SHARE * len(flat))))
  for k in rng.choice(len(flat), size=count, replace=False):
    i, j = flat[k]
    words[i][j] = vocabulary[rng.randint(len(vocabulary))]
  return [' '.join(p) for p in words]


def cut_short(paragraphs: List[str]) -> List[str]:
  return paragraphs[: max(1, int(round(KEPT_SHARE * len(paragraphs))))]


def page(site: str, paragraphs: List[str]) -> str:
  header, footer = SITES[site]
  return '\n\n'.join(header + paragraphs + footer)


def documents(
  rows: List[Dict[str, str]], vocabulary: Vocabulary
) -> Iterator[Tuple[Dict[str, Any], str, str]]:
  """Endless (raw record, story key, kind): the real stories first, then
  substituted generations of them."""
  sites = sorted(SITES)
  generation = 0
  while True:
    mapping = vocabulary.cipher(generation)
    for n, row in enumerate(rows):
      text = substitute(row['text'], mapping)
      title = substitute(row['title'], mapping)
      story = hashlib.sha1(comparable(text).encode('utf-8')).hexdigest()
      rng = np.random.RandomState(generation * 100003 + n)
      base = sentence_paragraphs(text)
      bodies = {
        'original': base,
        'syndicated': base,
        'edited': edit_words(base, vocabulary.words, rng),
        'cut_short': cut_short(base),
      }
      home = n % len(sites)
      for k, kind in enumerate(KINDS):
        site = sites[(home + k) % len(sites)]
        url = 'https://www.%s/%s/g%d-%s?utm_source=feed' % (
          site,
          row['category'],
          generation,
          row['file'],
        )
        yield (
          schema.new_article(
            url=url,
            canonical_url=url.split('?')[0],
            domain=site,
            title=title,
            body=page(site, bodies[kind]),
            part=0,
            source='benchmark',
            published_at='2024-01-%02dT%02d:%02d:00Z' % (1 + generation, k, n % 60),
          ),
          story,
          kind,
        )
    generation += 1


def corpus(rows, vocabulary, size):
  out = []
  for record, story, kind in documents(rows, vocabulary):
    if len(out) == size:
      return out
    out.append((record, story, kind))
  return out


def run_dedup(
  records: List[Dict[str, Any]], config: Dict[str, Any], workdir: str
) -> Dict[str, Any]:
  """Clean + Deduplicate on the DirectRunner; returns the outcome per url."""
  prefix = os.path.join(workdir, 'outcome')
  with beam.Pipeline(options=PipelineOptions(['--runner=DirectRunner'])) as p:
    cleaned = p | beam.Create(records) | CleanArticles(config['clean'])
    kept, duplicates, _ = (
      cleaned.articles | 'Id' >> beam.Map(schema.with_id) | Deduplicate(config['dedup'])
    )
    (
      (
        (
          kept
          | 'KeptOutcome'
          >> beam.Map(lambda a: json.dumps([a['url'], a['id'], None, None, len(a['removed'])]))
        ),
        (
          duplicates
          | 'DupOutcome'
          >> beam.Map(
            lambda d: json.dumps(
              [d['url'], d['id'], d['duplicate_of'], d['duplicate_rule'], len(d['removed'])]
            )
          )
        ),
      )
      | beam.Flatten()
      | beam.io.WriteToText(prefix)
    )
  outcome = {}
  for name in os.listdir(workdir):
    if name.startswith('outcome'):
      with open(os.path.join(workdir, name), encoding='utf-8') as f:
        for line in f:
          url, rid, dup_of, rule, removed = json.loads(line)
          outcome[url] = {'id': rid, 'duplicate_of': dup_of, 'rule': rule, 'removed': removed}
  return outcome


def clusters_of(outcome: Dict[str, Any]) -> Dict[str, str]:
  """url -> the id of the record finally kept for it (chains followed)."""
  link = {o['id']: o['duplicate_of'] for o in outcome.values() if o['duplicate_of']}

  def root(rid):
    while rid in link:
      rid = link[rid]
    return rid

  return {url: root(o['id']) for url, o in outcome.items()}


def pairs(labels: Dict[str, str]) -> int:
  return sum(n * (n - 1) // 2 for n in Counter(labels.values()).values())


def quality(docs, outcome) -> Dict[str, Any]:
  """Pairwise precision and recall of the predicted clusters.

  Two documents are duplicates when they come from the same text (case,
  punctuation and spacing ignored). Pairs of *different* texts under one
  headline are left out of both measures: the BBC set holds such pairs, an
  updated version of one story, which a deduplicator may merge or not.
  """
  predicted = clusters_of(outcome)
  truth = {r['url']: story for r, story, _ in docs}
  title = {r['url']: r['title'] for r, _, _ in docs}
  both = {url: (truth[url], predicted[url]) for url in truth}
  true_pairs, hits = pairs(truth), pairs(both)
  ambiguous = pairs(title) - pairs({u: (title[u], truth[u]) for u in truth})
  predicted_ambiguous = pairs({u: (title[u], predicted[u]) for u in truth}) - pairs(
    {u: (title[u], predicted[u], truth[u]) for u in truth}
  )
  predicted_pairs = pairs(predicted) - predicted_ambiguous
  # The stories merged although neither text nor headline are the same.
  merged = defaultdict(set)
  for r, story, kind in docs:
    if kind == 'original':
      merged[predicted[r['url']]].add(r['title'])
  merged_titles = sorted(' / '.join(sorted(t)) for t in merged.values() if len(t) > 1)
  # Recall per kind of copy: is the copy in its original's cluster?
  original = {story: r['url'] for r, story, kind in docs if kind == 'original'}
  found = defaultdict(lambda: [0, 0])
  for r, story, kind in docs:
    if kind != 'original':
      found[kind][1] += 1
      found[kind][0] += predicted[r['url']] == predicted[original[story]]
  # Hard negatives: distinct stories on one site merged into one cluster.
  by_site = defaultdict(list)
  for r, story, _ in docs:
    by_site[r['domain']].append((story, predicted[r['url']]))
  same_site_merged = sum(
    pairs({i: p for i, (s, p) in enumerate(members)})
    - pairs({i: (s, p) for i, (s, p) in enumerate(members)})
    for members in by_site.values()
  )
  rules = Counter(o['rule'] for o in outcome.values() if o['rule'])
  return {
    'documents': len(docs),
    'stories': len(set(truth.values())),
    'true_pairs': true_pairs,
    'predicted_pairs': predicted_pairs,
    'ambiguous_pairs': ambiguous,
    'ambiguous_merged': predicted_ambiguous,
    'merged_titles': merged_titles,
    'precision': hits / predicted_pairs if predicted_pairs else 1.0,
    'recall': hits / true_pairs if true_pairs else 1.0,
    'recall_by_kind': {k: v[0] / v[1] for k, v in sorted(found.items())},
    'same_site_false_pairs': same_site_merged,
    'rules': dict(rules),
    'boilerplate_cut_per_doc': sum(o['removed'] for o in outcome.values()) / len(outcome),
    'boilerplate_per_doc': sum(len(h) + len(f) for h, f in SITES.values()) / len(SITES),
  }


def peak_memory_mb() -> float:
  """This process's peak resident memory. ru_maxrss is carried over an exec
  from the parent on Linux, so /proc's high-water mark comes first."""
  try:
    with open('/proc/self/status', encoding='ascii') as f:
      for line in f:
        if line.startswith('VmHWM:'):
          return int(line.split()[1]) / 1024
  except OSError:
    pass
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_scale(data: str, size: int) -> Dict[str, Any]:
  """One size, in this process: wall time of the pipeline and peak memory."""
  rows = read_bbc(data)
  docs = corpus(rows, Vocabulary(rows), size)
  records = [r for r, _, _ in docs]
  config = load_config()
  with tempfile.TemporaryDirectory() as workdir:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    outcome = run_dedup(records, config, workdir)
    seconds = time.perf_counter() - start
  found = quality(docs, outcome)
  usage = resource.getrusage(resource.RUSAGE_SELF)
  return {
    'size': size,
    'seconds': seconds,
    'cpu_seconds': usage.ru_utime + usage.ru_stime - cpu_before,
    'peak_rss_mb': peak_memory_mb(),
    'precision': found['precision'],
    'recall': found['recall'],
  }


def print_quality(q: Dict[str, Any], baseline: Dict[str, Any]) -> None:
  """The default test beside the baseline: Jaccard only, no containment."""
  print(
    'Quality: %d documents, %d stories (real BBC text, Clean + Deduplicate,'
    ' DirectRunner)' % (q['documents'], q['stories'])
  )
  print(
    '| measure | Jaccard >= 0.8 or containment >= 0.9 (default) | Jaccard >= 0.8 only (baseline) |'
  )
  print('| --- | --- | --- |')
  rows = [
    ('true duplicate pairs', lambda r: '%d' % r['true_pairs']),
    ('predicted duplicate pairs', lambda r: '%d' % r['predicted_pairs']),
    ('pairwise precision', lambda r: '%.4f' % r['precision']),
    ('pairwise recall', lambda r: '%.4f' % r['recall']),
  ]
  rows += [
    (
      'recall, %s copies' % kind.replace('_', ' '),
      lambda r, k=kind: '%.4f' % r['recall_by_kind'][k],
    )
    for kind in q['recall_by_kind']
  ]
  rows += [
    (
      'false pairs between stories of one site (sharing its menus)',
      lambda r: '%d' % r['same_site_false_pairs'],
    ),
    ('duplicates by rule', lambda r: ', '.join('%s %d' % kv for kv in sorted(r['rules'].items()))),
    (
      'same headline, other text (left out): merged',
      lambda r: '%d of %d pairs' % (r['ambiguous_merged'], r['ambiguous_pairs']),
    ),
  ]
  for name, value in rows:
    print('| %s | %s | %s |' % (name, value(q), value(baseline)))
  print(
    'Site menu/footer paragraphs per page cut by the clean stage: '
    '%.1f of %.1f' % (q['boilerplate_cut_per_doc'], q['boilerplate_per_doc'])
  )
  print(
    '%d source stories merged with another under a different headline '
    '(false positives against the texts), e.g.:' % len(q['merged_titles'])
  )
  for titles in q['merged_titles'][:5]:
    print('  ' + titles)


def print_scaling(results: List[Dict[str, Any]]) -> None:
  base = results[0]
  print('Scaling (Clean + Deduplicate, DirectRunner in-memory, one process per size)')
  print(
    '| documents | size ratio | wall s | CPU s | CPU ratio | CPU ms/doc '
    '| peak RSS MB | RSS ratio | precision | recall |'
  )
  print('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for r in results:
    print(
      '| %d | %.0f | %.1f | %.1f | %.2f | %.2f | %.0f | %.2f | %.4f | %.4f |'
      % (
        r['size'],
        r['size'] / base['size'],
        r['seconds'],
        r['cpu_seconds'],
        r['cpu_seconds'] / base['cpu_seconds'],
        1000 * r['cpu_seconds'] / r['size'],
        r['peak_rss_mb'],
        r['peak_rss_mb'] / base['peak_rss_mb'],
        r['precision'],
        r['recall'],
      )
    )


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  default_data = os.path.join('..', 'shared', 'data')
  parser.add_argument(
    '--data',
    default=default_data if os.path.isdir(default_data) else None,
    help='shared data folder (default ../shared/data)',
  )
  parser.add_argument(
    '--scales', default='1000,10000,50000', help='comma-separated corpus sizes for the scaling run'
  )
  parser.add_argument('--skip-quality', action='store_true')
  parser.add_argument('--one-scale', type=int, help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  if not args.data:
    raise SystemExit('benchmarks.dedup: pass --data (the shared data folder)')
  if args.one_scale:
    print(json.dumps(measure_scale(args.data, args.one_scale)))
    return
  if not args.skip_quality:
    rows = read_bbc(args.data)
    docs = corpus(rows, Vocabulary(rows), len(rows) * len(KINDS))
    records = [r for r, _, _ in docs]
    config = load_config()
    # Containment above 1 never holds: the Jaccard test alone.
    jaccard_only = dict(config, dedup=dict(config['dedup'], containment=2.0))
    found = {}
    for name, settings in (('default', config), ('baseline', jaccard_only)):
      with tempfile.TemporaryDirectory() as workdir:
        found[name] = quality(docs, run_dedup(records, settings, workdir))
    print_quality(found['default'], found['baseline'])
    print()
  results = []
  for size in [int(s) for s in args.scales.split(',')]:
    out = subprocess.run(
      [sys.executable, '-m', 'benchmarks.dedup', '--data', args.data, '--one-scale', str(size)],
      check=True,
      capture_output=True,
      text=True,
    )
    results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print('  measured %d documents: %.1f s' % (size, results[-1]['seconds']), file=sys.stderr)
  print_scaling(results)


if __name__ == '__main__':
  main()
