"""Conditional GET state: the validators (ETag, Last-Modified) kept per
URL between runs (feeds, sitemaps of pages and the pages they list), so
that an unchanged feed or sitemap answers 304 and gives no entries again,
and an unchanged page is not fetched again."""

import json
import logging
from typing import Dict, List, Optional, Tuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from transforms.fetch.client import FetchingDoFn, FetchResult

# The tagged output of (feed URL, validators) pairs to save.
FETCH_STATE = 'fetch_state'


def load_state(path: Optional[str]) -> Dict[str, Dict[str, str]]:
  """The validators (ETag, Last-Modified) kept per URL; empty if none yet.
  An unreadable file is logged and ignored: everything is fetched again,
  which loses nothing."""
  if not path:
    return {}
  try:
    if not FileSystems.exists(path):
      return {}
    with FileSystems.open(path) as f:
      state = json.loads(f.read().decode('utf-8'))
  except Exception as e:  # a corrupt state must not stop the crawl
    logging.warning('fetch state %s unreadable, ignoring it: %s', path, e)
    return {}
  if not isinstance(state, dict):
    logging.warning('fetch state %s is not a JSON object, ignoring it', path)
    return {}
  return {url: v for url, v in state.items() if isinstance(v, dict)}


def save_state(path: str, updates: List[Tuple[str, Dict[str, str]]]) -> str:
  """Merges this run's validators into the state file at ``path``."""
  before = load_state(path)
  state = dict(before)
  for url, validators in updates:
    if validators:
      state[url] = validators
    else:
      state.pop(url, None)
  if state == before:
    return path  # nothing new: no write (and no empty file on a first run)
  with FileSystems.create(path, mime_type='application/json') as f:
    f.write(json.dumps(state, indent=1, sort_keys=True).encode('utf-8'))
  return path


class ConditionalFetchingDoFn(FetchingDoFn):
  """A ``FetchingDoFn`` that fetches conditionally: ``self._state`` holds
  the validators the last run kept per URL (``load_state``; empty without
  a state path)."""

  def setup(self):
    super().setup()
    self._state = load_state(self._fetch.state_path)


def validators_of(result: FetchResult, previous: Optional[Dict[str, str]]) -> Dict[str, str]:
  """The validators to keep for a URL after fetching it."""
  out = dict(previous or {}) if result.not_modified else {}
  if result.etag:
    out['etag'] = result.etag
  if result.last_modified:
    out['last_modified'] = result.last_modified
  return out


class SaveFetchState(beam.PTransform):
  """Writes the validators to the state file once ``after`` (the
  run's written outputs) exists: saved earlier, a failed run would leave
  the next one answered 304 for entries that were never written."""

  def __init__(self, state_path: str, after):
    super().__init__()
    self._path = state_path
    self._after = after

  def expand(self, fetch_state):
    return (
      fetch_state
      | 'Collect' >> beam.combiners.ToList()
      | 'Save'
      >> beam.Map(
        lambda updates, path, _: save_state(path, sorted(updates)),
        self._path,
        beam.pvalue.AsList(self._after),
      )
    )
