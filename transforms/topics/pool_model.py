"""The topic model, loaded by the worker pool's fork server started ahead
of a local run (``transforms/pool_modules.py``): every child forked from it
starts with the model loaded (``articles.loaded_model``), and the pool's
scoring child scores articles with it (``ScoreTopicsAhead``) without
loading it again.

The model is the one the launcher names in NEWSBEAM_POOL_TOPIC_MODEL. A
model that fails to load here is not loaded: a child asked to score loads it
then, and the error, if any, is reported there.
"""

import os

from transforms.pool_modules import TOPIC_MODEL_VARIABLE
from transforms.topics.articles import loaded_model


def preload() -> None:
  path = os.environ.get(TOPIC_MODEL_VARIABLE)
  if not path:
    return
  try:
    loaded_model(path)
  except Exception:  # reported when a child is asked to score
    pass


preload()
