"""Reads and validates newsbeam's configuration.

``configs/default.yaml`` holds every default; a user's ``--config FILE`` is
merged over it, so a user file only names what it changes. The result is
checked once, here, with messages that say which key is wrong.

Secrets stay out of config files: a string value may name an environment
variable as ``${NAME}`` (e.g. a feed URL ending ``?token=${FEED_TOKEN}``); it
is replaced by the variable's value when the file is read, and an unset
variable is an error. ``$${`` gives a literal ``${``.
"""

import copy
import os
import re
from importlib import resources
from typing import Any, Dict, List, Optional

import yaml

DEFAULT_CONFIG = 'default.yaml'


class ConfigError(ValueError):
  """A configuration file is missing, malformed or has a wrong value."""


def _merge(base: Dict[str, Any], override: Dict[str, Any]) -> Dict[str, Any]:
  merged = copy.deepcopy(base)
  for key, value in override.items():
    if isinstance(value, dict) and isinstance(merged.get(key), dict):
      merged[key] = _merge(merged[key], value)
    else:
      merged[key] = value
  return merged


_ENV_REFERENCE = re.compile(r'\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}')


def expand_env(value: Any, origin: str, key: str = '') -> Any:
  """`value` with every ${NAME} in its strings replaced by the environment
  variable NAME (values are text; nothing else is interpreted)."""
  if isinstance(value, dict):
    return {
      k: expand_env(v, origin, '%s.%s' % (key, k) if key else str(k)) for k, v in value.items()
    }
  if isinstance(value, list):
    return [expand_env(v, origin, '%s[%d]' % (key, i)) for i, v in enumerate(value)]
  if not isinstance(value, str) or '${' not in value:
    return value

  def substitute(match):
    escaped, name = match.groups()
    if escaped:
      return '${%s}' % name
    if name not in os.environ:
      raise ConfigError(
        '%s: %s uses ${%s}, which is not set in the environment' % (origin, key, name)
      )
    return os.environ[name]

  return _ENV_REFERENCE.sub(substitute, value)


def _read_yaml(text: str, origin: str) -> Dict[str, Any]:
  try:
    data = yaml.safe_load(text) or {}
  except yaml.YAMLError as e:
    raise ConfigError('%s is not valid YAML: %s' % (origin, e)) from e
  if not isinstance(data, dict):
    raise ConfigError('%s must hold a mapping at the top level' % origin)
  return expand_env(data, origin)


def default_config_path() -> str:
  return str(resources.files('configs').joinpath(DEFAULT_CONFIG))


def _read_text(path: str) -> str:
  """A local or gs:// config file (a Flex Template reads it from a bucket)."""
  if '://' not in path:
    if not os.path.exists(path):
      raise ConfigError('config file not found: %s' % path)
    with open(path, encoding='utf-8') as f:
      return f.read()
  from apache_beam.io.filesystems import FileSystems

  try:
    with FileSystems.open(path) as f:
      return f.read().decode('utf-8')
  except Exception as e:  # a missing object or bucket: the user's to fix
    raise ConfigError('config file could not be read: %s: %s' % (path, e)) from e


def load_config(path: Optional[str] = None) -> Dict[str, Any]:
  """The default configuration, with the file at `path` merged over it."""
  default_path = default_config_path()
  with open(default_path, encoding='utf-8') as f:
    config = _read_yaml(f.read(), default_path)
  config['_base_dir'] = os.path.dirname(os.path.abspath(default_path))
  if path:
    user = _read_yaml(_read_text(path), path)
    unknown = sorted(set(user) - set(config))
    if unknown:
      raise ConfigError(
        '%s: unknown section(s) %s; known: %s'
        % (path, unknown, sorted(k for k in config if not k.startswith('_')))
      )
    config = _merge(config, user)
    model = (user.get('classify') or {}).get('model')
    if isinstance(model, str) and '://' not in model and not os.path.isabs(model):
      config['classify']['model'] = os.path.normpath(
        os.path.join(os.path.dirname(os.path.abspath(path)), model)
      )
    if 'inputs' in user:
      config['_base_dir'] = (
        path.rsplit('/', 1)[0] if '://' in path else os.path.dirname(os.path.abspath(path))
      )
  validate(config)
  return config


def _check(condition: bool, message: str) -> None:
  if not condition:
    raise ConfigError(message)


def _number(config, section, key, low=None, high=None, integer=False):
  value = config.get(section, {}).get(key)
  kind = int if integer else (int, float)
  _check(
    isinstance(value, kind) and not isinstance(value, bool),
    '%s.%s must be a %s, got %r' % (section, key, 'whole number' if integer else 'number', value),
  )
  _check(
    low is None or value >= low, '%s.%s must be at least %s, got %r' % (section, key, low, value)
  )
  _check(
    high is None or value <= high, '%s.%s must be at most %s, got %r' % (section, key, high, value)
  )


def validate(config: Dict[str, Any]) -> None:
  """Raises ConfigError naming the first wrong key."""
  for section in (
    'inputs',
    'read',
    'fetch',
    'extract',
    'clean',
    'boilerplate',
    'language',
    'filter',
    'dedup',
    'classify',
    'output',
    'taxonomy',
  ):
    _check(
      isinstance(config.get(section), dict),
      'config section %r is missing or not a mapping' % section,
    )
  for key in ('feeds', 'scraped'):
    _check(
      isinstance(config['inputs'].get(key, []), list),
      'inputs.%s must be a list of paths or URLs' % key,
    )
  _number(config, 'read', 'max_record_bytes', low=1, integer=True)
  _validate_fetch(config)
  _check(
    config['extract'].get('favor') in ('precision', 'balanced', 'recall'),
    'extract.favor must be precision, balanced or recall',
  )
  _number(config, 'extract', 'min_extracted_chars', low=0, integer=True)
  _number(config, 'extract', 'lead_min_words', low=0, integer=True)
  _number(config, 'extract', 'max_html_bytes', low=1000, integer=True)
  _number(config, 'extract', 'timeout_seconds', low=0)
  _number(config, 'extract', 'progress_seconds', low=0)
  _number(config, 'extract', 'story_min_paragraphs', low=1, integer=True)
  _number(config, 'extract', 'story_min_words', low=0, integer=True)
  _number(config, 'clean', 'max_headline_words', low=1, integer=True)
  _number(config, 'clean', 'min_story_words', low=0, integer=True)
  _number(config, 'clean', 'site_name_max_words', low=1, integer=True)
  _number(config, 'clean', 'headline_search_paragraphs', low=1, integer=True)
  _number(config, 'clean', 'max_byline_words', low=1, integer=True)
  _number(config, 'clean', 'share_row_min_share', low=0, high=1)
  _number(config, 'clean', 'share_row_max_words', low=1, integer=True)
  for key in ('boilerplate_lines', 'disclaimer_prefixes', 'share_words', 'byline_lines'):
    _check(isinstance(config['clean'].get(key), list), 'clean.%s must be a list' % key)
  _number(config, 'boilerplate', 'min_pages', low=1, integer=True)
  _number(config, 'boilerplate', 'min_share', low=0, high=1)
  _number(config, 'boilerplate', 'max_cut_share', low=0, high=1)
  _check(
    config['language'].get('backend') in ('langdetect', 'lingua'),
    'language.backend must be langdetect or lingua, got %r' % config['language'].get('backend'),
  )
  _check(
    isinstance(config['language'].get('lingua_low_accuracy'), bool),
    'language.lingua_low_accuracy must be true or false',
  )
  _number(config, 'language', 'max_chars', low=50, integer=True)
  _number(config, 'language', 'seed', low=0, integer=True)
  _number(config, 'language', 'fragment_min_words', low=1, integer=True)
  _number(config, 'language', 'fragment_min_chars', low=0, integer=True)
  _number(config, 'language', 'fragment_min_probability', low=0, high=1)
  _number(config, 'language', 'fragment_max_chars', low=1, integer=True)
  _number(config, 'language', 'fast_mode_min_chars', low=0, integer=True)
  _check(
    config['language'].get('short_fragment_languages') in ('main', 'all', 'none'),
    'language.short_fragment_languages must be main, all or none',
  )
  main = config['language'].get('main_languages')
  _check(
    isinstance(main, list) and all(isinstance(code, str) and len(code) == 2 for code in main),
    'language.main_languages must be a list of ISO 639-1 codes',
  )
  close = config['language'].get('close_languages')
  _check(
    isinstance(close, list)
    and all(
      isinstance(group, list) and all(isinstance(code, str) and len(code) == 2 for code in group)
      for group in close
    ),
    'language.close_languages must be a list of lists of ISO 639-1 '
    'codes, e.g. [[ms, id], [bs, hr, sr]]',
  )
  _number(config, 'language', 'fragment_max_capitalized_share', low=0, high=1)
  _number(config, 'language', 'fragment_max_cut_share', low=0, high=1)
  _number(config, 'language', 'foreign_script_share', low=0, high=1)
  _check(
    config['language'].get('fast_detector') in ('fasttext', 'none'),
    'language.fast_detector must be fasttext or none, got %r'
    % config['language'].get('fast_detector'),
  )
  _number(config, 'language', 'fast_document_min_probability', low=0, high=1)
  _number(config, 'language', 'fast_fragment_min_probability', low=0, high=1)
  _number(config, 'filter', 'min_words', low=0, integer=True)
  _number(config, 'dedup', 'shingle_words', low=1, integer=True)
  _number(config, 'dedup', 'num_perm', low=1, integer=True)
  _number(config, 'dedup', 'bands', low=1, integer=True)
  _check(
    config['dedup']['num_perm'] % config['dedup']['bands'] == 0,
    'dedup.num_perm must be a multiple of dedup.bands',
  )
  _number(config, 'dedup', 'threshold', low=0, high=1)
  _number(config, 'dedup', 'containment', low=0, high=1)
  _number(config, 'dedup', 'max_bucket', low=2, integer=True)
  _check(
    config['output'].get('format') in ('jsonl', 'parquet'), 'output.format must be jsonl or parquet'
  )
  _check(
    config['dedup'].get('index') is None or isinstance(config['dedup']['index'], str),
    'dedup.index must be a folder or gs:// prefix, or null',
  )
  _number(config, 'dedup', 'index_shards', low=1, integer=True)
  _number(config, 'dedup', 'stream_horizon_days', low=0)
  _number(config, 'classify', 'min_score', low=0, high=1)
  _number(config, 'classify', 'max_topics', low=1, integer=True)
  _validate_classify(config['classify'], config['taxonomy'])
  for code, label in config['taxonomy'].items():
    _check(
      str(code).startswith('medtop:') and isinstance(label, str),
      'taxonomy entries must map medtop:NNNNNNNN codes to labels, got %r' % code,
    )
  _validate_stream(config)


def _validate_stream(config: Dict[str, Any]) -> None:
  _check(
    isinstance(config.get('stream'), dict), 'config section \'stream\' is missing or not a mapping'
  )
  _number(config, 'stream', 'poll_interval', low=1)
  _number(config, 'stream', 'window_minutes', low=1, integer=True)
  _number(config, 'stream', 'early_firing_seconds', low=0)
  _number(config, 'stream', 'allowed_lateness_minutes', low=0, integer=True)
  _number(config, 'stream', 'shards_per_window', low=1, integer=True)


def _validate_fetch(config: Dict[str, Any]) -> None:
  for key in ('connect_timeout', 'read_timeout', 'total_timeout'):
    _number(config, 'fetch', key, low=0.01)
  _number(config, 'fetch', 'retries', low=0, integer=True)
  _number(config, 'fetch', 'backoff', low=0)
  _number(config, 'fetch', 'max_backoff', low=0)
  _number(config, 'fetch', 'max_redirects', low=0, integer=True)
  _number(config, 'fetch', 'max_bytes', low=1, integer=True)
  _number(config, 'fetch', 'per_host_concurrency', low=1, integer=True)
  _number(config, 'fetch', 'per_host_delay', low=0)
  _number(config, 'fetch', 'robots_cache_sites', low=1, integer=True)
  fetch = config['fetch']
  agent = fetch.get('user_agent')
  _check(isinstance(agent, str) and agent.strip(), 'fetch.user_agent must be a non-empty string')
  _check(
    isinstance(fetch.get('respect_robots'), bool), 'fetch.respect_robots must be true or false'
  )
  _check(
    fetch.get('state_path') is None
    or (isinstance(fetch['state_path'], str) and fetch['state_path'].strip()),
    'fetch.state_path must be a path, or null for no fetch state',
  )


def _validate_classify(classify: Dict[str, Any], taxonomy: Dict[str, Any]):
  model = classify.get('model')
  _check(
    model is None or (isinstance(model, str) and model.strip()),
    'classify.model must be a path to a model file, or null for the packaged model',
  )
  _check(
    model is None or '://' in model or os.path.isfile(model),
    'classify.model: no model file at %s' % model,
  )
  config = {'classify': classify, 'classify.training': classify.get('training') or {}}
  _number(config, 'classify', 'max_chars', low=1, integer=True)
  _number(config, 'classify', 'min_batch_size', low=1, integer=True)
  _number(config, 'classify', 'max_batch_size', low=classify['min_batch_size'], integer=True)
  names = classify.get('label_names')
  _check(
    isinstance(names, dict) and all(code in taxonomy for code in names.values()),
    'classify.label_names must map label names to taxonomy codes',
  )
  _check(isinstance(classify.get('training'), dict), 'classify.training must be a mapping')
  for key in ('word_min_df', 'char_min_df'):
    _number(config, 'classify.training', key, low=1, integer=True)
  for key in ('word_features', 'char_features'):
    if config['classify.training'].get(key) is not None:
      _number(config, 'classify.training', key, low=1, integer=True)
  _number(config, 'classify.training', 'regularization', low=1e-6)
  _number(config, 'classify.training', 'calibration_folds', low=2, integer=True)
  _check(
    isinstance(classify['training'].get('short_variants'), bool),
    'classify.training.short_variants must be true or false',
  )


def resolve_inputs(config: Dict[str, Any]) -> Dict[str, List[str]]:
  """The config's input paths, relative ones taken from the config's folder."""
  base = config.get('_base_dir', '.')
  out = {}
  for key in ('feeds', 'scraped'):
    resolved = []
    for item in config['inputs'].get(key) or []:
      item = str(item)
      if '://' in item or os.path.isabs(item):
        resolved.append(item)
      else:
        resolved.append(os.path.normpath(os.path.join(base, item)))
    out[key] = resolved
  return out
