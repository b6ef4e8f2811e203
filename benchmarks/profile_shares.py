"""Where a run's CPU goes: py-spy's raw samples grouped by pipeline stage.

Record a run with py-spy (its extraction children and fork server too), then
group the samples by the innermost stage each falls in, for the whole run
and apart for the main process and for its children:

  py-spy record --subprocesses --rate 50 --format raw -o profile.txt -- \\
      .venv/bin/python -m pipelines.ingest --scraped pages.jsonl --output out
  python benchmarks/profile_shares.py profile.txt

A sample goes to the first group in GROUPS whose test its stack passes, so
module loading counts as imports wherever it happens; "other" is what no
group claims (the standard library: threads, logging, JSON). py-spy counts
some threads as active while they are blocked (a condition variable, a
selector, a pipe read): those samples are "waiting", their own group, not
CPU spent by the stage that waits.
"""

import argparse
import re
from collections import Counter

# Innermost frames of a thread that is blocked, not computing.
WAITS = (
  'Condition.wait (threading.py',
  'Event.wait (threading.py',
  'Thread._wait_for_tstate_lock (threading.py',
  '.select (selectors.py',
  '_ModuleLock.acquire (<frozen importlib._bootstrap>',
  'Connection._recv (multiprocessing/connection.py',
  'Connection._recv_bytes (multiprocessing/connection.py',
  '_ConnectionBase.recv (multiprocessing/connection.py',
)


def innermost(stack):
  return stack.rsplit(';', 1)[-1]


GROUPS = (
  (
    'waiting (a thread blocked on a lock, a selector or a pipe: not CPU)',
    lambda s: any(wait in innermost(s) for wait in WAITS),
  ),
  (
    # transforms/pool_preload.py runs under its own import, in the fork server.
    "the pool's fork server warming caches (dateparser, lingua, a first page)",
    lambda s: 'transforms/pool_preload' in s,
  ),
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

# py-spy's name of a process in a stack: its id and command line, quoted.
_PROCESS = re.compile(r'process \d+:"[^"]*";?')


def shares(path):
  """{'all', 'main process', 'children': Counter of samples per group} of a
  py-spy raw file (one line per distinct stack, its sample count last): the
  main process is the one py-spy started, the children every process below
  it (the extraction pool's fork server and children)."""
  found = {part: Counter() for part in PARTS}
  with open(path, encoding='utf-8', errors='replace') as f:
    for line in f:
      stack, _, count = line.rstrip('\n').rpartition(' ')
      part = 'main process' if len(_PROCESS.findall(stack)) == 1 else 'children'
      # Only the frames: a process's command line (a fork server's names the
      # modules it preloads) must not decide the group.
      stack = _PROCESS.sub('', stack)
      group = next((name for name, test in GROUPS if test(stack)), 'other')
      for counted in ('all', part):
        found[counted][group] += int(count)
  return found


PARTS = ('all', 'main process', 'children')


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('profile', help='py-spy record --format raw output')
  args = parser.parse_args(argv)
  found = shares(args.profile)
  totals = {part: sum(found[part].values()) or 1 for part in PARTS}
  print('| where | %s |' % ' | '.join(PARTS))
  print('| --- |%s' % (' ---: |' * len(PARTS)))
  for name, _ in found['all'].most_common():
    print(
      '| %s | %s |'
      % (
        name,
        ' | '.join(
          '%.0f%%' % (100 * found[part][name] / totals[part]) if found[part][name] else ''
          for part in PARTS
        ),
      )
    )
  print('\n%s samples' % ', '.join('%s %d' % (part, sum(found[part].values())) for part in PARTS))


if __name__ == '__main__':
  main()
