"""A local run's pool of children, started before Beam is imported.

`python -m pipelines.ingest` spends its first 1.5 to 2 s importing Beam and
the stages, on one core. Where the run will surely extract pages in this
process (the DirectRunner in memory or in threads, a time budget, pages to
extract), the launcher starts the worker pool's fork server first
(``start_pool_early``): the server imports and warms up what the children
need, and loads the topic model they score with, on the other core
meanwhile, and the first page finds it ready. What cannot be told here
without Beam is left to the run, which starts the pool as before.

Nothing here imports Beam, unless a scraped file's compression needs it to
be read.
"""

import argparse
import glob
import gzip
import json
from typing import Any, Dict, List, Optional, Sequence

from configs.loading import load_config, resolve_inputs
from transforms.pool_modules import start_pool_early

# The runner names of a local run (None: the default, the DirectRunner).
LOCAL_RUNNERS = (None, 'DirectRunner', 'direct')
# Flags of a run that only builds its job, or asks for help: no pool.
NO_POOL_FLAGS = ('--dry_run', '--template_location', '-h', '--help')
# Compressed files Beam's FileSystems reads for the scraped reader, besides gzip.
COMPRESSED = ('.bz2', '.deflate', '.zst', '.zstd', '.lzma', '.xz', '.snappy')


def _open_first_file(path: str):
  """A local scraped file, opened as the scraped reader opens it (by its
  name's compression)."""
  if path.endswith('.gz'):
    return gzip.open(path, 'rb')
  if path.endswith(COMPRESSED):
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.open(path, compression_type=CompressionTypes.AUTO)
  return open(path, 'rb')


def reads_pages(known: argparse.Namespace, feeds: List[str], scraped: List[str]) -> bool:
  """Whether a run has pages to extract: WARC files, sitemaps, feeds (their
  entries and pages), or scraped records with HTML, as the first record of
  the first local scraped file shows (a remote file counts as pages)."""
  if known.warc or known.sitemaps or feeds:
    return True
  for pattern in scraped:
    paths = sorted(glob.glob(pattern)) if '://' not in pattern else []
    if not paths:
      return True
    try:
      with _open_first_file(paths[0]) as f:
        line = f.readline()
        while line and not line.strip():  # the reader skips blank lines
          line = f.readline()
        return bool(json.loads(line or b'{}').get('html'))
    except (OSError, ValueError, AttributeError):
      return True
  return False


def _flags(argv: Sequence[str]) -> argparse.Namespace:
  """What decides the pool, of pipelines.ingest's flags and Beam's options."""
  parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
  for flag in ('--feeds', '--scraped', '--warc', '--sitemaps'):
    parser.add_argument(flag, action='append', default=[])
  for flag in ('--config', '--runner', '--direct_running_mode'):
    parser.add_argument(flag)
  return parser.parse_known_args(list(argv))[0]


def pool_config_ahead(argv: Sequence[str]) -> Optional[Dict[str, Any]]:
  """The run's configuration, if the ingest run of `argv` will surely
  extract pages in a pool of this process: the DirectRunner in memory or in
  threads, not a job only built, a time budget, pages to extract. Else None
  (also for anything unclear, such as a configuration that does not load:
  the run reports it, and decides the pool itself)."""
  if any(arg.split('=', 1)[0] in NO_POOL_FLAGS for arg in argv):
    return None
  try:
    known = _flags(argv)
  except (argparse.ArgumentError, SystemExit):
    return None
  if known.runner not in LOCAL_RUNNERS or known.direct_running_mode == 'multi_processing':
    return None
  try:
    config = load_config(known.config)
  except Exception:  # the run says what is wrong with it
    return None
  if not config['extract']['timeout_seconds']:
    return None
  feeds, scraped = known.feeds, known.scraped
  if not (feeds or scraped or known.warc or known.sitemaps):
    inputs = resolve_inputs(config)
    feeds, scraped = inputs['feeds'], inputs['scraped']
  return config if reads_pages(known, feeds, scraped) else None


def start_pool_ahead(argv: Sequence[str]) -> bool:
  """Starts the pool's fork server now if the ingest run of `argv` will
  surely use it (``pool_config_ahead``); whether it did."""
  config = pool_config_ahead(argv)
  return config is not None and start_pool_early(config)
