"""mkdocs hook: the references generated at build time from the code.

docs/configuration.md holds the placeholder ``{{ configuration_reference }}``;
it is replaced by ``configs.schema.reference_markdown()``, the Markdown the
configuration schema writes for every section and field (name, type,
default, description). docs/outputs.md holds ``{{ record_schema }}``,
replaced by the tables of ``transforms.schema``'s declared record and
dead-letter schemas (the ones the Parquet writer writes). So neither page
can drift from the code.
"""

import importlib
import logging
import os
import sys

from mkdocs.exceptions import PluginError

PLACEHOLDER = '{{ configuration_reference }}'
RECORD_PLACEHOLDER = '{{ record_schema }}'

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


def _schema_table(declared) -> str:
  rows = ['| field | type | meaning |', '| --- | --- | --- |']
  for field in declared:
    description = (field.metadata or {}).get(b'description', b'').decode('utf-8')
    rows.append('| `%s` | `%s` | %s |' % (field.name, field.type, description.replace('|', '\\|')))
  return '\n'.join(rows)


def _record_schema(config_file: str) -> str:
  root = os.path.dirname(os.path.abspath(config_file))
  if root not in sys.path:
    sys.path.insert(0, root)
  schema = importlib.import_module('transforms.schema')
  return '\n\n'.join(
    (
      'Articles, duplicates and rejected records:',
      _schema_table(schema.RECORD_SCHEMA),
      'Dead letters:',
      _schema_table(schema.DEAD_LETTER_SCHEMA),
    )
  )


def on_page_markdown(markdown, page, config, files):
  if RECORD_PLACEHOLDER in markdown:
    markdown = markdown.replace(RECORD_PLACEHOLDER, _record_schema(config['config_file_path']))
  if PLACEHOLDER not in markdown:
    return markdown
  reference = _reference(config['config_file_path'])
  log.info('configuration reference: %d lines from configs.schema', reference.count('\n') + 1)
  return markdown.replace(PLACEHOLDER, reference)
