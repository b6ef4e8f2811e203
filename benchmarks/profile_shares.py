"""Where a run's CPU goes: py-spy's raw samples grouped by pipeline stage.

Record a run with py-spy (its extraction children and fork server too), then
group the samples by the innermost stage each falls in:

  py-spy record --subprocesses --rate 50 --format raw -o profile.txt -- \\
      .venv/bin/python -m pipelines.ingest --scraped pages.jsonl --output out
  python benchmarks/profile_shares.py profile.txt

A sample goes to the first group in GROUPS whose test its stack passes, so
module loading counts as imports wherever it happens; "other" is what no
group claims (the standard library: threads, logging, JSON).
"""

import argparse
from collections import Counter

GROUPS = (
  (
    'imports (module loading)',
    lambda s: '_find_and_load' in s or ('_call_with_frames_removed' in s and 'exec_module' in s),
  ),
  (
    'building the pipeline graph (expand, options)',
    lambda s: '.expand (' in s or 'PipelineOptions' in s,
  ),
  ('date search (htmldate, dateparser)', lambda s: 'htmldate' in s or 'dateparser' in s),
  ('trafilatura main text and metadata', lambda s: 'trafilatura' in s),
  (
    'readability, resiliparse and the paragraph vote',
    lambda s: 'readability' in s or 'resiliparse' in s or 'transforms/text/vote' in s,
  ),
  (
    'other page work (lxml parse, stories, lead, normalize)',
    lambda s: 'transforms/text/page.py' in s or 'transforms/text/authors.py' in s,
  ),
  (
    'language (lingua, fastText, scripts)',
    lambda s: 'lingua' in s or 'transforms/language' in s or 'fasttext' in s,
  ),
  ('topic classification (scikit-learn)', lambda s: 'sklearn' in s or 'transforms/topics' in s),
  (
    'clean and site boilerplate',
    lambda s: any(
      m in s
      for m in (
        'transforms/text/cleaning',
        'transforms/text/boilerplate',
        'transforms/clean.py',
        'transforms/boilerplate.py',
      )
    ),
  ),
  ('dedup (MinHash, keys)', lambda s: 'transforms/dedup' in s),
  ('reading, writing, summary', lambda s: 'transforms/io' in s or 'transforms/schema' in s),
  (
    'time-budget pipe (pickling pages to the children)',
    lambda s: 'multiprocessing/connection' in s or 'transforms/text/budget' in s,
  ),
  ('Beam runner (bundles, coders, gRPC, state)', lambda s: 'apache_beam' in s or 'grpc' in s),
)


def shares(path):
  """(Counter of samples per group, all samples) of a py-spy raw file: one
  line per distinct stack, its sample count last."""
  found, total = Counter(), 0
  with open(path, encoding='utf-8', errors='replace') as f:
    for line in f:
      stack, _, count = line.rstrip('\n').rpartition(' ')
      total += int(count)
      group = next((name for name, test in GROUPS if test(stack)), 'other')
      found[group] += int(count)
  return found, total


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('profile', help='py-spy record --format raw output')
  args = parser.parse_args(argv)
  found, total = shares(args.profile)
  print('| where | share of the samples |')
  print('| --- | ---: |')
  for name, count in found.most_common():
    print('| %s | %.0f%% |' % (name, 100 * count / total))
  print('\n%d samples' % total)


if __name__ == '__main__':
  main()
