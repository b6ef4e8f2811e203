"""mkdocs hook: the configuration reference, generated at build time.

docs/configuration.md holds the placeholder ``{{ configuration_reference }}``;
it is replaced by ``configs.schema.reference_markdown()``, the Markdown the
configuration schema writes for every section and field (name, type,
default, description), so the page cannot drift from the code.
"""

import importlib
import logging
import os
import sys

from mkdocs.exceptions import PluginError

PLACEHOLDER = '{{ configuration_reference }}'

log = logging.getLogger('mkdocs.hooks.configuration')


def _reference(config_file: str) -> str:
  root = os.path.dirname(os.path.abspath(config_file))
  if root not in sys.path:
    sys.path.insert(0, root)
  try:
    reference_markdown = importlib.import_module('configs.schema').reference_markdown
  except (ImportError, AttributeError) as e:
    raise PluginError(
      'docs/configuration.md needs configs.schema.reference_markdown(): %s' % e
    ) from e
  return reference_markdown()


def on_page_markdown(markdown, page, config, files):
  if PLACEHOLDER not in markdown:
    return markdown
  reference = _reference(config['config_file_path'])
  log.info('configuration reference: %d lines from configs.schema', reference.count('\n') + 1)
  return markdown.replace(PLACEHOLDER, reference)
