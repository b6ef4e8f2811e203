"""Throughput: the whole pipeline against trafilatura alone, on real pages.

Runs, in one invocation:
  * trafilatura alone (``trafilatura.extract``) over N real news pages, in one
    process: the baseline, the one unavoidable cost per page; and trafilatura
    with metadata (``with_metadata=True``: title, author, date, as a newsbeam
    record has them), the baseline that does what newsbeam's extraction does
    (timed before the page runs and again after them: their mean);
  * ``python -m pipelines.ingest`` over the same pages on the DirectRunner,
    with 1 worker (in memory; its extraction on a pool of children, one per
    core) and with 2 (multi_processing: a process per worker, each with its
    pool; multi_threading: threads of one process sharing one pool), timed
    end to end (start-up included), with the CPU time and peak memory of its
    whole process tree (the workers and their extraction children included);
  * the peer pipeline (datatrove: trafilatura + fastText language filter,
    then also its four MinHash dedup stages; 2 tasks) on the same pages,
    when its virtualenv exists (--peer-python; benchmarks/peer/), stopped
    and left out past --peer-timeout seconds;
  * short records (feed items of about 100 words, plain text) through the
    pipeline on each engine, end to end and without the start-up (a run on
    one record, measured in the same invocation, is the start-up);
  * the cost per stage, timing each stage's per-record functions in-process
    (CPU time), for the same pages and short records: what the pipeline's CPU
    time holds beyond their sum is the runner's (coders, shuffles, bundles);
    extraction's, the CPU goal's measure;
  * with --before REF, the same pipeline runs with the code of git commit REF
    (checked out into a scratch folder), so the table holds before/after
    ratios measured in the same run (not on multi_threading: before its
    shared pool, that engine started an extraction child per Beam thread);
  * with --scale N,M,...: clean, site boilerplate and dedup (the stages that
    see the whole input at once) on N documents each, every size in a fresh
    process on the DirectRunner: CPU time, its ratio to the smallest size,
    and peak resident memory.

Last, the goals as ratios (met or not), and from the measured CPU per page
beyond start-up, the vCPU-hours a million pages cost on Dataflow.

Pages come from --data (default ../shared/data): the extraction sets' HTML.
When N is larger than the pages there are, pages are reused under other URLs
(they then also exercise exact dedup). The machine may be shared: CPU times
and ratios measured in the same run are the figures to compare.

  python benchmarks/throughput.py [--data DIR] [--pages 600] [--short 4000]
      [--before REF] [--scale 5000,50000] [--skip-pipeline]
      [--modes in_memory,multi_processing[,multi_threading]]
      [--peer-python /tmp/peer-venv/bin/python] [--peer-timeout 900]
"""

import argparse
import csv
import glob
import gzip
import json
import os
import pickle
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Dict, NamedTuple, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TWO_WORKERS = ['--direct_num_workers=2', '--direct_running_mode=multi_processing']
TWO_THREADS = ['--direct_num_workers=2', '--direct_running_mode=multi_threading']
PEER_PYTHON = '/tmp/peer-venv/bin/python'
PEER_SCRIPT = os.path.join(ROOT, 'benchmarks', 'peer', 'datatrove_pipeline.py')
CLOCK_TICKS = os.sysconf('SC_CLK_TCK')


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
        chunk = words[start : start + 100]
        if len(chunk) >= 60:
          records.append(
            {
              'url': 'https://short.example/%s/%s/%d' % (row['category'], row['file'], start),
              'title': row['title'],
              'text': ' '.join(chunk),
            }
          )
  return records


def descendants(pid: int):
  """The ids of a process's live descendants (Linux): the children of every
  thread, as the multi-processing DirectRunner starts its workers from a
  thread (and a worker its extraction child)."""
  found, frontier = [], [pid]
  while frontier:
    parent = frontier.pop()
    try:
      tasks = os.listdir('/proc/%d/task' % parent)
    except OSError:
      tasks = []
    for task in tasks:
      try:
        with open('/proc/%d/task/%s/children' % (parent, task)) as f:
          kids = [int(k) for k in f.read().split()]
      except OSError:
        kids = []
      found += kids
      frontier += kids
  return found


def process_cpu(pid: int) -> float:
  """CPU seconds (user + system) a live process has used, 0 if it is gone."""
  try:
    with open('/proc/%d/stat' % pid) as f:
      fields = f.read().rsplit(')', 1)[1].split()
  except OSError:
    return 0.0
  return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class ProcessTree:
  """Samples a process and its descendants (Linux): the peak of their summed
  resident memory, and the CPU time of each as last seen."""

  def __init__(self, pid):
    self._pid, self.peak, self._stop = pid, 0, threading.Event()
    self._cpu = {}
    self._thread = threading.Thread(target=self._run, daemon=True)
    self._thread.start()

  def _tree(self):
    return [self._pid] + descendants(self._pid)

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
      tree = self._tree()
      self.peak = max(self.peak, sum(self._rss(p) for p in tree))
      for p in tree:
        self._cpu[p] = max(self._cpu.get(p, 0.0), process_cpu(p))
      time.sleep(0.1)

  def stop(self):
    """-> (peak memory, CPU seconds of every process seen)."""
    self._stop.set()
    self._thread.join()
    return self.peak, sum(self._cpu.values())


def children_cpu():
  usage = resource.getrusage(resource.RUSAGE_CHILDREN)
  return usage.ru_utime + usage.ru_stime


class Run(NamedTuple):
  """One timed pipeline run: wall and CPU seconds of the whole process tree,
  peak memory, summary."""

  seconds: float
  cpu: float
  peak: int
  summary: Dict[str, Any]


def write_jsonl(records, path):
  if not os.path.exists(path):
    with open(path, 'w', encoding='utf-8') as f:
      for r in records:
        f.write(json.dumps(r) + '\n')
  return path


class RunFailed(Exception):
  """A timed command ended with an error; the message says how."""


def timed(cmd, cwd, env=None, timeout=None):
  """(wall s, CPU s of the process tree, peak memory, stdout) of a command;
  past `timeout` seconds its whole process group is killed and
  subprocess.TimeoutExpired raised."""
  cpu = children_cpu()
  start = time.perf_counter()
  proc = subprocess.Popen(
    cmd,
    cwd=cwd,
    env=env,
    stdout=subprocess.PIPE,
    stderr=subprocess.PIPE,
    text=True,
    start_new_session=True,
  )
  tree = ProcessTree(proc.pid)
  try:
    out, err = proc.communicate(timeout=timeout)
  except subprocess.TimeoutExpired:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    tree.stop()
    raise
  elapsed = time.perf_counter() - start
  peak, sampled_cpu = tree.stop()
  if proc.returncode:
    raise RunFailed(
      '%s failed (exit status %d%s):\n%s'
      % (
        ' '.join(cmd[:3]),
        proc.returncode,
        ', killed: out of memory?' if proc.returncode == -signal.SIGKILL else '',
        err[-3000:],
      )
    )
  # Sampling misses what a process uses after its last sample; getrusage
  # counts whole the children that were waited for, but not a process no
  # one waits for (a worker's extraction child): the larger is the closer.
  return elapsed, max(sampled_cpu, children_cpu() - cpu), peak, out


def run_pipeline(inputs, workdir, name, extra, code=ROOT, input_flag='--scraped'):
  """`python -m pipelines.ingest` on `inputs` (given to `input_flag`) with
  the code under `code` (this checkout, or another commit's)."""
  output = tempfile.mkdtemp(prefix=name + '-', dir=workdir)
  cmd = [sys.executable, '-m', 'pipelines.ingest', input_flag, inputs, '--output', output] + extra
  elapsed, cpu, peak, _ = timed(cmd, code, dict(os.environ, PYTHONPATH=code))
  with open(os.path.join(output, 'summary.json')) as f:
    summary = json.load(f)
  shutil.rmtree(output, ignore_errors=True)
  return Run(elapsed, cpu, peak, summary)


def run_peer(python, inputs, workdir, dedup, timeout):
  """The peer pipeline (datatrove, benchmarks/peer/) on `inputs`, 2 tasks,
  in its own virtualenv; its counts as the summary. None if it ran past
  `timeout` seconds (a hung task: it is killed, the benchmark goes on), or
  if it failed (its environment short of a package, say: the error is
  printed and the table goes on without it)."""
  folder = tempfile.mkdtemp(prefix='peer-', dir=workdir)
  cmd = [python, PEER_SCRIPT, '--pages', inputs, '--workdir', folder, '--tasks', '2']
  try:
    elapsed, cpu, peak, out = timed(cmd + (['--dedup'] if dedup else []), folder, None, timeout)
  except subprocess.TimeoutExpired:
    print('the peer pipeline ran past %d s and was stopped: left out' % timeout)
    return None
  except RunFailed as e:
    print('the peer pipeline failed, left out: %s' % e)
    return None
  finally:
    shutil.rmtree(folder, ignore_errors=True)
  return Run(elapsed, cpu, peak, json.loads(out.strip().splitlines()[-1]))


def checkout(ref, workdir):
  """The tree of git commit `ref`, extracted into a scratch folder."""
  folder = os.path.join(workdir, 'before')
  os.makedirs(folder)
  archive = subprocess.run(
    ['git', 'archive', ref], cwd=ROOT, check=True, capture_output=True
  ).stdout
  subprocess.run(['tar', '-x', '-C', folder], input=archive, check=True)
  return folder


def trafilatura_alone(pages, with_metadata=False):
  """Wall and CPU seconds of trafilatura over the pages: the main text only,
  or with the metadata (title, author, date) a newsbeam record holds too."""
  import trafilatura

  # Its first call loads what trafilatura loads lazily: not a page's cost.
  trafilatura.extract(pages[0]['html'], url=pages[0]['url'], with_metadata=with_metadata)
  start, cpu = time.perf_counter(), time.process_time()
  for page in pages:
    trafilatura.extract(page['html'], url=page['url'], with_metadata=with_metadata)
  return time.perf_counter() - start, time.process_time() - cpu


class StageClock:
  """CPU seconds per stage, summed over calls."""

  def __init__(self):
    self.costs = {}

  def __call__(self, stage, fn, *args):
    start = time.process_time()
    out = fn(*args)
    self.costs[stage] = self.costs.get(stage, 0.0) + time.process_time() - start
    return out


def stage_costs(lines):
  """CPU seconds per stage over scraped JSON lines, calling each stage's
  plain functions as the pipeline does (classification in batches)."""
  from collections import Counter

  from configs.loading import load_config
  from transforms import schema
  from transforms.dedup.minhash import MinHasher
  from transforms.dedup.rules import body_fingerprint, url_key
  from transforms.extract import build_articles
  from transforms.filters import rejection_reason
  from transforms.io.scraped import parse_scraped_line
  from transforms.language.detector import LanguageDetector
  from transforms.text.boilerplate import SiteBoilerplate, page_lines
  from transforms.text.cleaning import ArticleCleaner
  from transforms.topics.classify import TopicModelHandler
  from transforms.topics.model import article_text, top_topics

  config = load_config()
  clock = StageClock()
  cleaner = clock('setup (once per worker)', ArticleCleaner, config['clean'])
  detector = clock('setup (once per worker)', LanguageDetector, config['language'])
  handler = TopicModelHandler(config['classify']['model'], 1, 1)
  model = clock('setup (once per worker)', handler.load_model)
  hasher = MinHasher(config['dedup']['num_perm'], config['dedup']['shingle_words'])
  cleaned = []
  for line in lines:
    _, page = clock('read', parse_scraped_line, line, config['read']['max_record_bytes'])
    clock(
      'coders (pickle, 1 round trip)',
      lambda: pickle.loads(pickle.dumps(page, pickle.HIGHEST_PROTOCOL)),
    )
    for article in clock('extract', build_articles, page, config['extract']):
      cleaned += clock('clean', cleaner.clean, article)

  def learn():
    lines_per_site, pages = Counter(), Counter()
    for article in cleaned:
      pages[article['domain']] += 1
      lines_per_site.update((article['domain'], l) for l in page_lines(article))
    return SiteBoilerplate.from_counts(lines_per_site, pages, config['boilerplate'])

  site = clock('site boilerplate', learn)
  kept = []
  for article in cleaned:
    article = clock('site boilerplate', site.cut, article)
    article = clock('language', detector.label, article)
    article = clock('filter', schema.with_id, article)
    if not clock('filter', rejection_reason, article, config['filter']['min_words']):
      kept.append(article)
    clock(
      'dedup (keys, MinHash)',
      lambda: (body_fingerprint(article['body']), url_key(article), hasher.sketch(article['body'])),
    )
  classify = config['classify']
  for start in range(0, len(kept), classify['max_batch_size']):
    batch = kept[start : start + classify['max_batch_size']]
    texts = [article_text(a['title'], a['body'], classify['max_chars']) for a in batch]
    for scores in clock('classify', model.scores, texts):
      clock(
        'classify',
        top_topics,
        scores,
        config['taxonomy'],
        classify['min_score'],
        classify['max_topics'],
      )
  for article in kept:
    clock('write (JSON line)', schema.to_json_line, article)
  return clock.costs, len(lines), len(kept)


def print_stage_costs(title, costs, records):
  per_record = {k: v for k, v in costs.items() if not k.startswith('setup')}
  total = sum(per_record.values())
  print('\n| stage (in-process CPU, %s) | ms per record | share |' % title)
  print('| --- | ---: | ---: |')
  for stage, secs in per_record.items():
    print('| %s | %.2f | %.0f%% |' % (stage, 1000 * secs / records, 100 * secs / total))
  print('| **sum of the stages** | **%.2f** | 100%% |' % (1000 * total / records))
  for stage, secs in costs.items():
    if stage.startswith('setup'):
      print('| %s | %.0f ms in all | |' % (stage, 1000 * secs))


def scale_documents(data, size):
  """`size` documents of the dedup benchmark's corpus: BBC stories and
  their syndicated, edited and cut-short copies on five sites, each under
  its site's menus and footers."""
  from benchmarks.dedup import Vocabulary, corpus, read_bbc

  rows = read_bbc(data)
  return [record for record, _, _ in corpus(rows, Vocabulary(rows), size)]


def one_scale(path):
  """Clean, site boilerplate and dedup over the documents of one JSON Lines
  file, on the DirectRunner in this process; prints CPU, wall and peak
  memory as JSON."""
  import apache_beam as beam
  from apache_beam.options.pipeline_options import PipelineOptions

  from configs.loading import load_config
  from transforms import schema
  from transforms.boilerplate import CutSiteBoilerplate
  from transforms.clean import CleanArticles
  from transforms.dedup.batch import Deduplicate

  config = load_config()
  start, cpu = time.perf_counter(), time.process_time()
  with beam.Pipeline(options=PipelineOptions(['--runner=DirectRunner'])) as p:
    cleaned = p | beam.io.ReadFromText(path) | beam.Map(json.loads) | CleanArticles(config['clean'])
    templated = cleaned.articles | CutSiteBoilerplate(config['boilerplate'])
    kept, duplicates, _ = (
      templated.articles | 'Id' >> beam.Map(schema.with_id) | Deduplicate(config['dedup'])
    )
    outcome = os.path.join(os.path.dirname(path), 'outcome')
    (
      (
        (kept | 'Kept' >> beam.Map(lambda a: 'kept')),
        (duplicates | 'Dup' >> beam.Map(lambda d: d['duplicate_rule'])),
      )
      | beam.Flatten()
      | beam.combiners.Count.PerElement()
      | beam.Map(json.dumps)
      | beam.io.WriteToText(outcome)
    )
  counts = {}
  for name in glob.glob(outcome + '*'):
    with open(name) as f:
      counts.update(json.loads(line) for line in f)
  with open('/proc/self/status') as f:
    peak = [int(l.split()[1]) * 1024 for l in f if l.startswith('VmHWM:')][0]
  print(
    json.dumps(
      {
        'seconds': time.perf_counter() - start,
        'cpu': time.process_time() - cpu,
        'peak': peak,
        'outcome': counts,
      }
    )
  )


def measure_scales(data, sizes, workdir, codes):
  """{(code name, size): figures}, each size in a fresh process."""
  results = {}
  for size in sizes:
    path = os.path.join(workdir, 'scale-%d' % size, 'docs.jsonl')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_jsonl(scale_documents(data, size), path)
    for name, code in codes.items():
      for old in glob.glob(os.path.join(os.path.dirname(path), 'outcome*')):
        os.remove(old)
      done = subprocess.run(
        [sys.executable, os.path.abspath(__file__), '--code', code, '--one-scale', path],
        cwd=code,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=code),
      )
      if done.returncode:
        raise SystemExit('scale run failed:\n%s' % done.stderr[-3000:])
      results[name, size] = json.loads(done.stdout.strip().splitlines()[-1])
  return results


def print_scales(results, sizes, names):
  print('\n| code | documents | CPU s | CPU ratio | size ratio | wall s | peak memory | outcome |')
  print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |')
  for name in names:
    base = results[name, sizes[0]]
    for size in sizes:
      r = results[name, size]
      print(
        '| %s | %d | %.1f | %.2f | %.0f | %.1f | %.0f MB | %s |'
        % (
          name,
          size,
          r['cpu'],
          r['cpu'] / base['cpu'],
          size / sizes[0],
          r['seconds'],
          r['peak'] / 2**20,
          ', '.join('%s %d' % kv for kv in sorted(r['outcome'].items())),
        )
      )


def mb(value):
  return '%.0f MB' % (value / 2**20)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--data', default=default_data())
  parser.add_argument('--pages', type=int, default=600)
  parser.add_argument('--short', type=int, default=4000)
  parser.add_argument(
    '--before',
    metavar='REF',
    help='also run the pipeline with the code of this git commit, for before/after ratios',
  )
  parser.add_argument(
    '--scale',
    metavar='N,M,...',
    default='',
    help='clean + site boilerplate + dedup on N, M, ... documents: time and memory growth',
  )
  parser.add_argument(
    '--skip-pipeline', action='store_true', help='only the stage costs (and --scale)'
  )
  parser.add_argument(
    '--modes',
    default=DEFAULT_MODES,
    help='the DirectRunner engines to run the pipeline on (comma-separated) of %s; '
    'multi_threading has run out of memory on some runs' % ', '.join(e[0] for e in ENGINES),
  )
  parser.add_argument(
    '--peer-python',
    default=PEER_PYTHON,
    help='the peer pipeline\'s virtualenv python (benchmarks/peer/requirements.txt); '
    'its runs are left out when it does not exist',
  )
  parser.add_argument(
    '--peer-timeout',
    type=float,
    default=900,
    help='seconds a peer run may take before it is stopped and left out',
  )
  parser.add_argument('--code', default=ROOT, help=argparse.SUPPRESS)
  parser.add_argument('--one-scale', help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  sys.path[:0] = [args.code, ROOT]
  if args.one_scale:
    return one_scale(args.one_scale)
  if not args.data:
    raise SystemExit('--data is required (../shared/data not found)')
  with tempfile.TemporaryDirectory() as workdir:
    codes = {'after': ROOT}
    if args.before:
      codes = {'before': checkout(args.before, workdir), 'after': ROOT}
    if args.pages or args.short:
      pipeline_runs(args, workdir, codes)
    if args.scale:
      sizes = [int(s) for s in args.scale.split(',')]
      print(
        '\nclean + site boilerplate + dedup, DirectRunner, 1 process, '
        'the dedup benchmark\'s corpus (1 story in 4 is an original):'
      )
      print_scales(measure_scales(args.data, sizes, workdir, codes), sizes, list(codes))


# The local engines measured: one worker in memory (its extraction on a
# pool of children, one per core, so on both cores), and two workers as
# processes (each with its own pool) or as threads of one process (sharing
# one pool). Each is a name for --modes, its label and its flags.
ENGINES = (
  ('in_memory', '1 worker', []),
  ('multi_processing', '2 workers, multi_processing', TWO_WORKERS),
  ('multi_threading', '2 workers, multi_threading', TWO_THREADS),
)
# multi_threading is measured only when asked for (--modes): its main
# process has grown past 17 GB on some runs (killed out of memory), with
# the shared pool as before it; and code before the pool started an
# extraction child per Beam thread there, so it is never run before/after.
DEFAULT_MODES = 'in_memory,multi_processing'
UNSAFE_BEFORE = {'multi_threading'}
PEER_RUNS = (
  ('peer: datatrove, trafilatura + fastText, 2 tasks', False),
  ('peer: datatrove, the same + 4 MinHash stages, 2 tasks', True),
)


class Row(NamedTuple):
  name: str
  code: str
  records: int
  seconds: float
  cpu: float
  peak: Optional[int] = None


def kept_date_patterns(code):
  """dateparser's compiled patterns for `code`'s runs as a user's runs after
  their first find them (``transforms/text/date_patterns.py``): kept on disk
  now if they were not. Code from before they were kept builds them in
  every run."""
  done = subprocess.run(
    [sys.executable, '-c', 'from transforms.text import date_patterns as d; print(d.warm_up())'],
    cwd=code,
    env=dict(os.environ, PYTHONPATH=code),
    capture_output=True,
    text=True,
    check=True,
  )
  return 'dateparser\'s patterns for this checkout\'s runs: %s (%s)' % (
    done.stdout.strip(),
    os.environ.get('NEWSBEAM_CACHE_DIR') or 'the user\'s cache folder',
  )


def engines(args):
  return [e for e in ENGINES if e[0] in args.modes.split(',')]


def pipeline_runs(args, workdir, codes):
  pages = load_pages(args.data, args.pages) if args.pages else []
  short = load_short_records(args.data, args.short) if args.short else []
  page_file = write_jsonl(pages, os.path.join(workdir, 'pages.jsonl'))
  short_file = write_jsonl(short, os.path.join(workdir, 'short.jsonl'))
  one_file = write_jsonl(short[:1] or pages[:1], os.path.join(workdir, 'one.jsonl'))
  rows, outputs = [], {}

  def each_code(mode):
    return [(n, c) for n, c in codes.items() if not (n == 'before' and mode in UNSAFE_BEFORE)]

  if pages:
    print(
      '%d pages (%d distinct), %.0f MB of HTML'
      % (
        len(pages),
        len({p['html'] for p in pages}),
        sum(len(p['html'].encode('utf-8')) for p in pages) / 2**20,
      )
    )
    rows.append(Row('trafilatura alone, 1 process', '', len(pages), *trafilatura_alone(pages)))
    # The baseline of the ratios, timed before the page runs and again
    # after them (their mean): one pass varies by a tenth between
    # invocations on this machine.
    with_metadata = [trafilatura_alone(pages, with_metadata=True)]
    if not args.skip_pipeline:
      print(kept_date_patterns(codes['after']))
      # Interleaved (before, after; one engine after the other) so that a
      # change in the machine's load falls on every run alike.
      for mode, label, extra in engines(args):
        for name, code in each_code(mode):
          try:
            run = run_pipeline(page_file, workdir, 'pages', extra, code)
          except RunFailed as e:  # the table goes on without it
            print('pages, %s (%s): %s' % (label, name, e))
            continue
          rows.append(
            Row('pages, DirectRunner, ' + label, name, len(pages), run.seconds, run.cpu, run.peak)
          )
          outputs['pages, ' + label, name] = run.summary['outputs']
      if os.path.exists(args.peer_python):
        for label, dedup in PEER_RUNS:
          run = run_peer(args.peer_python, page_file, workdir, dedup, args.peer_timeout)
          if run:
            rows.append(Row(label, 'peer', len(pages), run.seconds, run.cpu, run.peak))
            outputs[label, 'peer'] = run.summary
      with_metadata.append(trafilatura_alone(pages, with_metadata=True))
      print(
        'trafilatura with metadata, 1 process: %s s (before and after the page runs; '
        'the table and the ratios take their mean)'
        % ', '.join('%.1f' % seconds for seconds, _ in with_metadata)
      )
    rows.insert(
      1,
      Row(
        'trafilatura with metadata, 1 process',
        '',
        len(pages),
        *(sum(values) / len(with_metadata) for values in zip(*with_metadata)),
      ),
    )
  if short and not args.skip_pipeline:
    for mode, label, extra in engines(args):
      for name, code in each_code(mode):
        try:
          start_up = run_pipeline(one_file, workdir, 'one', extra, code)
          run = run_pipeline(short_file, workdir, 'short', extra, code)
        except RunFailed as e:
          print('short records, %s (%s): %s' % (label, name, e))
          continue
        rows += [
          Row('start-up: 1 record, ' + label, name, 1, *start_up[:3]),
          Row('short records, ' + label, name, len(short), *run[:3]),
          Row(
            'short records, %s, without start-up' % label,
            name,
            len(short),
            max(run.seconds - start_up.seconds, 1e-9),
            run.cpu - start_up.cpu,
          ),
        ]
  print_runs(rows)
  for (label, name), counts in outputs.items():
    print('outputs, %s (%s): %s' % (label, name, json.dumps(counts)))
  extraction = None
  # Extraction's own CPU per page, the CPU goal's measure, on the pages the
  # runs read.
  for title, records in (('pages', pages), ('short records', short)):
    if records:
      lines = [json.dumps(r).encode('utf-8') + b'\n' for r in records]
      costs, n, _ = stage_costs(lines)
      print_stage_costs('%s, %d records' % (title, n), costs, n)
      if title == 'pages':
        extraction = costs['extract'] / n
  print_goals(rows, extraction)


def print_runs(rows):
  print(
    '\n| run | code | records | seconds | records/s | CPU s | CPU ms per record | peak memory '
    '| time / trafilatura | time / trafilatura with metadata '
    '| after / before | CPU after / before |'
  )
  print('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  by_name = {(r.name, r.code): r for r in rows}
  base = by_name.get(('trafilatura alone, 1 process', ''))
  meta = by_name.get(('trafilatura with metadata, 1 process', ''))
  for r in rows:
    change = cpu_change = ''
    before = by_name.get((r.name, 'before'))
    if r.code == 'after' and before:
      change = '%.2f' % (r.seconds / before.seconds)
      cpu_change = '%.2f' % (r.cpu / before.cpu)
    on_pages = base is not None and r.records == base.records
    print(
      '| %s | %s | %d | %.1f | %.1f | %.1f | %.2f | %s | %s | %s | %s | %s |'
      % (
        r.name,
        r.code,
        r.records,
        r.seconds,
        r.records / r.seconds,
        r.cpu,
        1000 * r.cpu / r.records,
        mb(r.peak) if r.peak else '',
        '%.2f' % (r.seconds / base.seconds) if on_pages else '',
        '%.2f' % (r.seconds / meta.seconds) if on_pages else '',
        change,
        cpu_change,
      )
    )


def print_goals(rows, extraction):
  """The performance goals, each as its ratio and whether it is met, for
  this checkout's code; and what a million pages cost on Dataflow."""
  mine = {r.name: r for r in rows if r.code in ('', 'after', 'peer')}
  meta = mine.get('trafilatura with metadata, 1 process')
  lines = []

  def goal(text, value, limit, at_most=True):
    met = value <= limit if at_most else value >= limit
    lines.append(
      '| %s | %.2f | %s %g | %s |'
      % (text, value, '<=' if at_most else '>=', limit, 'met' if met else 'not met')
    )

  for _, label, _ in ENGINES:
    run = mine.get('pages, DirectRunner, ' + label)
    if run is None or meta is None:
      continue
    goal('pages, %s: time / trafilatura with metadata' % label, run.seconds / meta.seconds, 0.8)
    if extraction:
      goal(
        'pages, %s: CPU per page / extraction\'s own CPU per page' % label,
        run.cpu / run.records / extraction,
        1.5,
      )
    for peer, _ in PEER_RUNS:
      if peer in mine:
        goal('pages, %s: time / %s' % (label, peer), run.seconds / mine[peer].seconds, 1.0)
  for _, label, _ in ENGINES:
    run = mine.get('short records, ' + label)
    if run:
      goal(
        'short records, %s, end to end: records/s' % label,
        run.records / run.seconds,
        1000,
        at_most=False,
      )
  if lines:
    print('\n| goal | value | target | |')
    print('| --- | ---: | ---: | --- |')
    print('\n'.join(lines))
  for _, label, _ in ENGINES:
    run = mine.get('pages, DirectRunner, ' + label)
    start_up = mine.get('start-up: 1 record, ' + label)
    if not (run and start_up):
      continue
    # Dataflow's workers live for hours: a page costs what the run costs
    # beyond its start-up.
    per_page = (run.cpu - start_up.cpu) / run.records
    print(
      '\nDataflow, default configuration, from the %s run: %.1f ms of CPU per page beyond '
      'start-up (its process tree, less a 1-record run\'s), %.1f vCPU-hours per million pages%s'
      % (
        label,
        1000 * per_page,
        per_page * 1e6 / 3600,
        ', of which newsbeam\'s extraction (in-process, the same pages) %.1f ms a page'
        % (1000 * extraction)
        if extraction
        else '',
      )
    )


if __name__ == '__main__':
  main()
