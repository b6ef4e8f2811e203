"""What local polls keep between runs under <output>/_stream: first
sightings, watched files, fetch state; and the index entries past the
horizon pruned."""

import json
import logging
import re
from typing import Dict, Iterable, List, Tuple

from apache_beam.io.filesystems import FileSystems

from transforms.io.sinks import output_path
from transforms.streaming.clock import epoch_of, poll_time

STATE_FOLDER = '_stream'
FIRST_SEEN_FILE = 'first_seen.json'
WATCHED_FILE = 'watched.json'
FETCH_STATE_FILE = 'fetch_state.json'
# Watched files with these endings are scraped page records; others feeds.
SCRAPED_ENDINGS = ('.jsonl', '.jsonl.gz', '.ndjson', '.ndjson.gz')
# Index files of polls: run-<poll name>-SSSSS-of-NNNNN.jsonl
_POLL_INDEX_FILE = re.compile(r'run-(poll=\d{8}T\d{6}Z)-\d+-of-\d+\.jsonl$')


def state_path(output: str, name: str) -> str:
  return output_path(output, STATE_FOLDER, name)


def load_json(path: str, default):
  """A small JSON state file; ``default`` when missing or unreadable (a
  lost state means items seen again count as new sightings, nothing
  worse: dedup still has the index)."""
  try:
    if not FileSystems.exists(path):
      return default
    with FileSystems.open(path) as f:
      value = json.loads(f.read().decode('utf-8'))
  except Exception as e:
    logging.warning('stream state %s unreadable, starting afresh: %s', path, e)
    return default
  return value if isinstance(value, type(default)) else default


def save_json(path: str, value) -> None:
  with FileSystems.create(path, mime_type='application/json') as f:
    f.write(json.dumps(value, indent=1, sort_keys=True).encode('utf-8'))


def record_sightings(
  first_seen: Dict[str, str], urls: Iterable[str], seen_at: str, now: float, horizon: float
) -> Dict[str, str]:
  """The first-seen times after a poll that saw ``urls`` at ``seen_at``:
  earlier sightings kept, those older than the horizon forgotten (as dedup
  forgets them)."""
  kept = {url: at for url, at in first_seen.items() if (epoch_of(at) or 0) + horizon > now}
  for url in urls:
    if url:
      kept.setdefault(url, seen_at)
  return kept


def prune_index(index: str, now: float, horizon: float) -> int:
  """Deletes the index files of polls older than the horizon, so polls
  forget published stories as the streaming graph's timers do (and the
  index read by each poll stops growing). Other runs' files are kept."""
  pattern = FileSystems.join(index.rstrip('/'), 'run-poll=*')
  try:
    files = FileSystems.match([pattern])[0].metadata_list
  except Exception:  # no index yet
    return 0
  old = [
    m.path
    for m in files
    if (
      _POLL_INDEX_FILE.search(m.path)
      and poll_time(_POLL_INDEX_FILE.search(m.path).group(1)) + horizon <= now
    )
  ]
  if old:
    FileSystems.delete(old)
  return len(old)


def is_scraped_file(path: str) -> bool:
  return path.lower().endswith(SCRAPED_ENDINGS)


def watch_pattern(prefix: str) -> str:
  """A watched prefix as a glob: a folder's files, or the glob as given."""
  if any(c in prefix for c in '*?['):
    return prefix
  return prefix.rstrip('/') + '/*'


def new_watched_files(prefix: str, seen: Dict[str, int]) -> List[Tuple[str, int]]:
  """Files under the prefix not read before (a file rewritten with another
  size is read again), as (path, size), by path."""
  try:
    found = FileSystems.match([watch_pattern(prefix)])[0].metadata_list
  except Exception as e:  # a missing folder: nothing new yet
    logging.info('nothing to watch under %s yet: %s', prefix, e)
    return []
  return sorted((m.path, m.size_in_bytes) for m in found if seen.get(m.path) != m.size_in_bytes)
