"""dateparser's locale patterns, compiled once per machine, not once per run.

htmldate reads a date it cannot parse itself through dateparser, which tries
every locale (205) in turn and builds each locale's word lists and regular
expressions on first use: about 1.5 s of CPU in every process that warms it
up, nearly all of it the `regex` module parsing patterns in Python. The pool's
fork server warms it up once per run (``transforms/pool_preload.py``).

Here the built word lists and patterns are kept in a file between runs: the
patterns as the `regex` module's compiled form (the code its C engine runs,
what it pickles them as), so loading them skips the parsing. The file is
marshal data (no code runs when it is read), named by the versions of
Python, dateparser and regex that built it and the kind of machine; a file
that does not fit is ignored and written again. The patterns are the ones dateparser would build:
the same dates.

Where: $NEWSBEAM_CACHE_DIR, else $XDG_CACHE_HOME/newsbeam, else
~/.cache/newsbeam; NEWSBEAM_CACHE_DIR=off keeps nothing. A folder that cannot
be written only means the next run builds the patterns again.
"""

import logging
import marshal
import os
import platform
import sys
import tempfile
from typing import Any, Dict, Optional

FORMAT = 1

# dateparser's class-wide caches of a locale's words and patterns, by
# (dictionary class, skipped tokens) then locale name.
CACHES = (
  '_split_regex_cache',
  '_sorted_words_cache',
  '_split_relative_regex_cache',
  '_sorted_relative_strings_cache',
  '_match_relative_regex_cache',
)

# A string no locale reads: every locale is tried, so every locale's
# patterns are built.
NO_DATE = 'zzqx 12 qqq'

_LOG = logging.getLogger(__name__)


def cache_folder() -> Optional[str]:
  """The folder the patterns are kept in, or None when kept nowhere."""
  folder = os.environ.get('NEWSBEAM_CACHE_DIR')
  if folder is not None:
    return None if folder.strip().lower() in ('', 'off') else folder
  base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
  return os.path.join(base, 'newsbeam')


def cache_path(folder: str) -> str:
  """The file for this Python, dateparser and regex, on this kind of
  machine (the compiled form is the regex engine's own, a home folder may
  be shared by machines of another kind)."""
  import dateparser
  import regex
  from regex import _regex

  return os.path.join(
    folder,
    'dateparser-%s-regex-%s-%s-%s-%s-%s.marshal'
    % (
      dateparser.__version__,
      regex.__version__,
      getattr(_regex, 'MAGIC', 0),
      sys.implementation.cache_tag,
      platform.machine() or 'machine',
      sys.byteorder,
    ),
  )


def warm_up(folder: Optional[str] = None) -> str:
  """Builds every locale's patterns in this process (as htmldate's parser
  uses them), from the kept file where it fits. Returns 'loaded' (from the
  file), 'built' (and kept) or 'built, not kept'."""
  from htmldate.extractors import get_external_parser

  folder = cache_folder() if folder is None else folder
  try:
    path = cache_path(folder) if folder else None
  except Exception as error:  # a library without its version: built, as before
    _LOG.debug('dateparser patterns not kept: %s', error)
    path = None
  loaded = path is not None and _load(path)
  get_external_parser().get_date_data(NO_DATE)
  if loaded:
    return 'loaded'
  return 'built' if path is not None and _save(path) else 'built, not kept'


def _dictionary_classes() -> Dict[str, type]:
  from dateparser.languages.dictionary import Dictionary, NormalizedDictionary

  return {cls.__name__: cls for cls in (Dictionary, NormalizedDictionary)}


def _encoded(value: Any) -> Optional[tuple]:
  if isinstance(value, list) and all(isinstance(word, str) for word in value):
    return ('words', value)
  compiled = getattr(value, '_pickled_data', None)  # a regex module pattern
  return ('pattern', compiled) if isinstance(compiled, tuple) else None


def _decoded(value: tuple) -> Any:
  from regex import _regex

  kind, data = value
  if kind == 'words':
    return list(data)
  if kind == 'pattern':
    return _regex.compile(*data)
  raise ValueError('unknown entry %r' % (kind,))


def _save(path: str) -> bool:
  """Writes this process's built patterns to `path` (a whole file or none)."""
  try:
    classes = _dictionary_classes()
    Dictionary = classes['Dictionary']
    caches = {}
    with Dictionary._cache_lock:
      for name in CACHES:
        entries = []
        for key, by_locale in getattr(Dictionary, name).items():
          cls, *tokens = key
          if classes.get(cls.__name__) is not cls or not all(isinstance(t, str) for t in tokens):
            continue
          encoded = {locale: _encoded(value) for locale, value in by_locale.items()}
          if all(encoded.values()):
            entries.append((cls.__name__, tuple(tokens), encoded))
        caches[name] = entries
    data = marshal.dumps({'format': FORMAT, 'caches': caches})
    os.makedirs(os.path.dirname(path), exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), suffix='.part')
    try:
      with os.fdopen(handle, 'wb') as f:
        f.write(data)
      os.replace(temporary, path)
    except BaseException:
      os.unlink(temporary)
      raise
    return True
  except Exception as error:  # a folder not writable: built again next time
    _LOG.debug('dateparser patterns not kept in %s: %s', path, error)
    return False


def _load(path: str) -> bool:
  """Fills dateparser's caches from `path`; False (and nothing filled)
  where the file is missing or does not fit."""
  try:
    with open(path, 'rb') as f:
      data = marshal.load(f)
    if not isinstance(data, dict) or data.get('format') != FORMAT:
      return False
    classes = _dictionary_classes()
    decoded = {}
    for name in CACHES:
      decoded[name] = [
        ((classes[cls], *tokens), {locale: _decoded(value) for locale, value in by_locale.items()})
        for cls, tokens, by_locale in data['caches'][name]
      ]
    if not any(decoded.values()):
      return False
    Dictionary = classes['Dictionary']
    with Dictionary._cache_lock:
      for name, entries in decoded.items():
        cache = getattr(Dictionary, name)
        for key, by_locale in entries:
          for locale, value in by_locale.items():
            cache.setdefault(key, {}).setdefault(locale, value)
    return True
  except FileNotFoundError:
    return False
  except Exception as error:  # written by other code, or cut short: built again
    _LOG.debug('dateparser patterns in %s not used: %s', path, error)
    return False
