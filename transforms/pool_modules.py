"""What the worker pool's fork server imports, once for every child, and
its start ahead of the first page.

Nothing here imports Beam: a local run's launcher starts the server before
it imports Beam (``pipelines/pool_ahead.py``), so that the server warms up on
the other core while Beam and the stages are imported and the pipeline is
built.
"""

import os
from typing import Any, Dict

from transforms.text.budget import call, start_fork_server
from transforms.topics.articles import topic_model_path

# What the pool's fork server imports, once for every child: the page
# module and the libraries it imports on first use (the worker itself, which
# only builds records, never needs them), then ``pool_preload``, which fills
# those libraries' caches and loads lingua's fast-mode models.
EXTRACTION_MODULES = (
  'transforms.text.page',
  'transforms.text.vote',
  'trafilatura',
  'trafilatura.external',
  'htmldate',
  'resiliparse.extract.html2text',
  'resiliparse.parse.html',
  'transforms.pool_preload',
)

# Imported last by a fork server started ahead: loads the topic model named
# by TOPIC_MODEL_VARIABLE (set by ``start_pool_early``), which the pool's
# scoring child scores articles with (``ScoreTopicsAhead``).
TOPIC_MODEL_MODULE = 'transforms.topics.pool_model'
TOPIC_MODEL_VARIABLE = 'NEWSBEAM_POOL_TOPIC_MODEL'


def start_pool_early(config: Dict[str, Any]) -> bool:
  """Starts this process's fork server ahead of the first page, where the
  workers are this process (the DirectRunner in memory or in threads): it
  imports and loads what the children need (EXTRACTION_MODULES, about 4 s
  of CPU, and the topic model, about 2 s) on a core that is idle while the
  pipeline is built and the runner starts, instead of when the first page
  arrives, which would wait for it. Nothing changes but when that happens;
  False with the budget off, or where children are spawned. `config`: the
  run's whole configuration (its `extract` and `classify` sections); the
  model's path reaches the server in this process's environment
  (TOPIC_MODEL_VARIABLE), the one thing a fork server inherits at its
  start."""
  if not config['extract']['timeout_seconds']:
    return False
  os.environ[TOPIC_MODEL_VARIABLE] = topic_model_path(config['classify'])
  return start_fork_server((call.__module__, *EXTRACTION_MODULES, TOPIC_MODEL_MODULE))
