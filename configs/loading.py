"""Reads and validates newsbeam's configuration.

``configs/default.yaml`` holds every default; a user's ``--config FILE`` is
merged over it, so a user file only names what it changes. The result is
checked once, against the typed models of ``configs.schema``, with messages
that name the wrong key (and for an unknown key the nearest known one).

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
from pydantic import ValidationError

from configs import schema

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


# libyaml's parser where PyYAML has it (a tenth of the pure-Python parser's
# time: every run reads the default configuration, some twice), with
# PyYAML's own safe constructors: the same values.
_SAFE_LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


def _read_yaml(text: str, origin: str) -> Dict[str, Any]:
  try:
    data = yaml.load(text, Loader=_SAFE_LOADER) or {}
  except yaml.YAMLError:
    try:  # read again in Python, whose message shows the line in question
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
    private = sorted(k for k in user if str(k).startswith('_'))
    if private:
      raise ConfigError('%s: %s: unknown section' % (path, private[0]))
    config = _merge(config, user)
    classify = user.get('classify')
    model = classify.get('model') if isinstance(classify, dict) else None
    if isinstance(model, str) and '://' not in model and not os.path.isabs(model):
      config['classify']['model'] = os.path.normpath(
        os.path.join(os.path.dirname(os.path.abspath(path)), model)
      )
    if 'inputs' in user:
      config['_base_dir'] = (
        path.rsplit('/', 1)[0] if '://' in path else os.path.dirname(os.path.abspath(path))
      )
  try:
    return validate(config)
  except ConfigError as e:
    raise ConfigError('%s: %s' % (path, e) if path else str(e)) from None


def validate(config: Dict[str, Any]) -> Dict[str, Any]:
  """The configuration checked against configs.schema's models: raises
  ConfigError naming each wrong key (and for an unknown one the nearest
  known key); returns it as plain dicts, with every default filled in.
  Keys starting with `_` (e.g. `_base_dir`) are the loader's, kept as they are."""
  private = {k: v for k, v in config.items() if isinstance(k, str) and k.startswith('_')}
  public = {k: v for k, v in config.items() if k not in private}
  try:
    settings = schema.Settings.model_validate(public)
  except ValidationError as e:
    messages = schema.error_messages(e)
    if len(messages) > 1:
      messages = ['%d errors:' % len(messages)] + ['  ' + m for m in messages]
    raise ConfigError('\n'.join(messages)) from None
  return dict(settings.model_dump(), **private)


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
