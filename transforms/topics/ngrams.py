"""The n-gram topic model's scores, worked out without scikit-learn.

The model (``transforms/topics/model.py``) is trained as a scikit-learn
pipeline: word 1-2 gram and character 3-5 gram TF-IDF, a logistic regression,
a temperature. Scoring it needs none of scikit-learn's machinery, only what
the fit learned: each vectorizer's vocabulary and IDF weights, the
regression's coefficients and intercepts, the temperature. This module holds
those (``NgramScorer``) and works the scores out with NumPy and SciPy's sparse
matrices, step for step as scikit-learn does, so they are the pipeline's own,
bit for bit (checked when a model file is written, and by the tests).

Why it matters: importing scikit-learn costs about 1.5 s of CPU, in every
process that scores (the pool's fork server, a worker classifying short
records), where NumPy and ``scipy.sparse`` cost 0.25 s; and the plain
computation skips scikit-learn's checks on every call.

A model file written before the scorer's parameters were stored holds the
fitted pipeline only: ``TopicModel`` takes the parameters from it at load
(scikit-learn is imported then, by the unpickling), checks that they give
the pipeline's own scores, and scores with the pipeline where they do not.
"""

import functools
import operator
import pickle
import re
import unicodedata
from collections import Counter
from typing import Any, BinaryIO, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse

from transforms.text.runs import joined_runs
from transforms.text.translation import CharacterTable

# The model file's format (``save_model`` writes it).
MODEL_FORMAT = 'newsbeam-topic-model/1'

# Han characters and Japanese kana: written without spaces between words,
# so each is made a token of its own, and word bigrams are character pairs.
_HAN_KANA = r'[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]'
_UNSPACED = re.compile('(%s)' % _HAN_KANA)
# scikit-learn's default word pattern (two or more word characters), or one
# Han or kana character.
WORD_PATTERN = r'(?u)\b\w\w+\b|' + _HAN_KANA
# What scikit-learn's char_wb analyzer collapses first.
_WHITE_SPACES = re.compile(r'\s\s+')


class ModelDataError(ValueError):
  """Training data or a model file that cannot be used, with the reason."""


def _without_marks(code: int):
  """None for a combining mark (a character of a nonzero canonical
  combining class), to drop it; the character itself otherwise."""
  return None if unicodedata.combining(chr(code)) else code


# str.translate's table that drops combining marks: each character
# classified once per process.
_COMBINING_MARKS = CharacterTable(_without_marks)


def strip_accents(text: str) -> str:
  """Accents taken off (scikit-learn's ``strip_accents_unicode``, the
  vectorizers' ``strip_accents='unicode'``): NFKD, without the combining
  marks; ASCII text as it is."""
  if text.isascii():
    return text
  return unicodedata.normalize('NFKD', text).translate(_COMBINING_MARKS)


def folded(text: str) -> str:
  """What both vectorizers read of a text: lower case, accents stripped."""
  return strip_accents(text.lower())


def unspaced_apart(text: str) -> str:
  """A space around every Han or kana character of a folded text."""
  return _UNSPACED.sub(r' \1 ', text)


def spaced_words(text: str) -> str:
  """What the word n-grams are taken from: lower case, accents stripped, and
  a space around every Han or kana character."""
  return unspaced_apart(folded(text))


def char_wb_ngrams(text: str, ngram_range: Tuple[int, int]) -> List[str]:
  """scikit-learn's character n-grams within word boundaries
  (``analyzer='char_wb'``), the same n-grams in the same number: each word
  padded with a space either side, its n-grams for each n, and a word no
  longer than n counted once, whole."""
  grams: List[str] = []
  for word in _WHITE_SPACES.sub(' ', text).split():
    grams += word_ngrams(word, ngram_range)
  return grams


def word_ngrams(word: str, ngram_range: Tuple[int, int]) -> Sequence[str]:
  """One word's n-grams, as ``char_wb_ngrams`` takes them."""
  word = ' ' + word + ' '
  return _ngrams_of_length(len(word), ngram_range)(word)


@functools.lru_cache(maxsize=256)
def _ngrams_of_length(length: int, ngram_range: Tuple[int, int]) -> Callable[[str], Sequence[str]]:
  """The n-grams of a padded word of `length`, taken in one call: for each
  n its slices in order, or the whole word once when it is no longer than n
  (and no longer n-grams)."""
  min_n, max_n = ngram_range
  slices: List[slice] = []
  for n in range(min_n, max_n + 1):
    if length <= n:
      slices.append(slice(0, length))
      break
    slices += [slice(i, i + n) for i in range(length - n + 1)]
  if len(slices) == 1:
    whole = slices[0]
    return lambda word: (word[whole],)
  return operator.itemgetter(*slices)


def token_ngrams(tokens: List[str], ngram_range: Tuple[int, int]) -> List[str]:
  """Word n-grams of a text's tokens (scikit-learn's ``_word_ngrams``, in
  its order): the tokens, then each run of n joined by a space."""
  min_n, max_n = ngram_range
  if max_n == 1:
    return tokens
  grams = list(tokens) if min_n == 1 else []
  for n in range(max(min_n, 2), min(max_n + 1, len(tokens) + 1)):
    grams += joined_runs(tokens, n)
  return grams


class Vectorizer(NamedTuple):
  """What a fitted TF-IDF vectorizer of ``build_model``'s learned and is
  set to: `analyzer` 'word' (its text through ``spaced_words``, tokens by
  WORD_PATTERN) or 'char_wb' (lower case, accents stripped); `terms` its
  vocabulary, a term per feature index; `idf` its IDF weights (of `dtype`).
  Sublinear TF and l2 norm, as ``build_model`` sets them."""

  analyzer: str
  ngram_range: Tuple[int, int]
  terms: List[str]
  idf: np.ndarray
  dtype: str


def _counts_matrix(values: List[int], indices: List[int], indptr: List[int], columns: int):
  """A CSR matrix of int32 counts, a row per text: `values` at column
  `indices`, row i's from indptr[i] to indptr[i + 1]."""
  return scipy.sparse.csr_matrix(
    (
      np.asarray(values, dtype=np.int32),
      np.asarray(indices, dtype=np.int32),
      np.asarray(indptr, dtype=np.int32),
    ),
    shape=(len(indptr) - 1, columns),
  )


class _WordTerms:
  """A char_wb vectorizer's term indices of each word it meets (its
  n-grams in the vocabulary, repeated as often as they occur, an int32
  array), kept for the next texts: words repeat, within a text and across
  texts, so most are looked up once. At most LIMIT words are kept, then the
  table starts over."""

  LIMIT = 200000

  def __init__(self, vocabulary: Dict[str, int], ngram_range: Tuple[int, int]):
    self._vocabulary = vocabulary
    self._ngram_range = ngram_range
    self._terms: Dict[str, np.ndarray] = {}

  def __call__(self, word: str) -> np.ndarray:
    terms = self._terms.get(word)
    if terms is None:
      if len(self._terms) >= self.LIMIT:
        self._terms.clear()
      found = map(self._vocabulary.get, word_ngrams(word, self._ngram_range))
      terms = np.array([index for index in found if index is not None], dtype=np.int32)
      self._terms[word] = terms
    return terms

  def matrix(self, words: Sequence[str], columns: int):
    """The words' term counts, a row per word (CSR; a term a word holds
    twice is stored twice, which products and sums count as two)."""
    terms = list(map(self, words))
    indptr = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, terms), dtype=np.int64, count=len(terms)), out=indptr[1:])
    indices = np.concatenate(terms) if terms else np.zeros(0, dtype=np.int32)
    data = np.ones(len(indices), dtype=np.int32)
    return scipy.sparse.csr_matrix((data, indices, indptr), shape=(len(terms), columns))


class _Features:
  """One vectorizer's TF-IDF features of texts, as its ``transform`` gives
  them: term counts (a sorted CSR matrix of its dtype), then sublinear TF,
  IDF and the l2 norm. A char_wb analyzer's counts are each text's word
  counts times its words' term counts (a sparse product, in C), from each
  distinct word's terms kept across calls, instead of slicing, looking up
  and counting every n-gram of every word; a word analyzer's are counted
  with ``Counter``."""

  def __init__(self, vectorizer: Vectorizer):
    self._vectorizer = vectorizer
    self._vocabulary = {term: index for index, term in enumerate(vectorizer.terms)}
    self._idf = np.asarray(vectorizer.idf)
    self._dtype = np.dtype(vectorizer.dtype)
    if vectorizer.analyzer == 'char_wb':
      self._word_terms = _WordTerms(self._vocabulary, vectorizer.ngram_range)
    elif vectorizer.analyzer == 'word':
      self._tokens = re.compile(WORD_PATTERN).findall
    else:
      raise ModelDataError('no scorer for a %r analyzer' % vectorizer.analyzer)

  def counts(self, texts: Sequence[str]):
    """The term counts of texts already ``folded``."""
    if self._vectorizer.analyzer == 'char_wb':
      matrix = self._char_counts(texts)
    else:
      matrix = self._word_counts(texts)
    matrix.sort_indices()
    return matrix

  def _char_counts(self, texts: Sequence[str]):
    words: Dict[str, int] = {}  # each distinct word of the texts -> its row
    indices: List[int] = []
    values: List[int] = []
    indptr = [0]
    for text in texts:
      counts = Counter(_WHITE_SPACES.sub(' ', text).split())
      indices += [words.setdefault(word, len(words)) for word in counts]
      values += counts.values()
      indptr.append(len(indices))
    text_words = _counts_matrix(values, indices, indptr, len(words))
    product = text_words @ self._word_terms.matrix(list(words), len(self._vocabulary))
    return product.astype(self._dtype)

  def _word_counts(self, texts: Sequence[str]):
    vocabulary, ngram_range = self._vocabulary, self._vectorizer.ngram_range
    indices: List[int] = []
    values: List[int] = []
    indptr = [0]
    for text in texts:
      grams = token_ngrams(self._tokens(unspaced_apart(text)), ngram_range)
      # Each n-gram's feature index counted (those out of the vocabulary
      # under None), in C.
      counts = Counter(map(vocabulary.get, grams))
      counts.pop(None, None)
      indices += counts.keys()
      values += counts.values()
      indptr.append(len(indices))
    return _counts_matrix(values, indices, indptr, len(self._vocabulary)).astype(self._dtype)

  def __call__(self, texts: Sequence[str]):
    """The TF-IDF features of texts already ``folded``."""
    matrix = self.counts(texts)
    data = matrix.data
    np.log(data, data)
    data += 1.0
    data *= self._idf[matrix.indices]
    # The l2 norm as scikit-learn's Cython loop takes it: each row's squares
    # (in the data's precision) summed in order in double precision, each
    # value divided in double and stored back in the data's precision.
    squares = (data * data).astype(np.float64)
    for row in range(matrix.shape[0]):
      start, end = matrix.indptr[row], matrix.indptr[row + 1]
      if start == end:
        continue
      total = np.cumsum(squares[start:end])[-1]
      if total == 0.0:
        continue
      data[start:end] = data[start:end].astype(np.float64) / np.sqrt(total)
    return matrix


class NgramScorer:
  """The n-gram model's topic scores from its learned parameters:
  `vectorizers` (their features side by side, in order), `coef` and
  `intercept` (the regression's, one row per topic), `temperature`."""

  def __init__(
    self,
    vectorizers: Sequence[Vectorizer],
    coef: np.ndarray,
    intercept: np.ndarray,
    temperature: float,
  ):
    self.vectorizers = [Vectorizer(*v) for v in vectorizers]
    self._features = [_Features(v) for v in self.vectorizers]
    self._coef = np.asarray(coef)
    self._coef_t = self._coef.T
    self._intercept = np.asarray(intercept)
    self._temperature = float(temperature)

  def parameters(self) -> Dict[str, Any]:
    """What the model file stores (``from_parameters`` reads it back)."""
    return {
      'vectorizers': [tuple(v) for v in self.vectorizers],
      'coef': self._coef,
      'intercept': self._intercept,
      'temperature': self._temperature,
    }

  @classmethod
  def from_parameters(cls, parameters: Dict[str, Any]) -> 'NgramScorer':
    return cls(**parameters)

  def features(self, texts: Sequence[str]):
    """The texts' feature matrix (the pipeline's FeatureUnion's)."""
    texts = [folded(text) for text in texts]
    return scipy.sparse.hstack([features(texts) for features in self._features]).tocsr()

  def probabilities(self, texts: Sequence[str]) -> np.ndarray:
    """Per text, each topic's probability, as the pipeline's
    ``predict_proba``: the regression's softmax, its log sharpened by the
    temperature, and softmax again."""
    decision = self.features(texts) @ self._coef_t + self._intercept
    probabilities = np.exp(decision - decision.max(axis=1).reshape((-1, 1)))
    probabilities /= probabilities.sum(axis=1).reshape((-1, 1))
    calibrated = np.log(probabilities) / self._temperature
    calibrated = np.exp(calibrated - np.max(calibrated, axis=1, keepdims=True))
    return calibrated / np.sum(calibrated, axis=1, keepdims=True)


def pipeline_scorer(pipeline) -> Optional[NgramScorer]:
  """The scorer of a fitted pipeline of ``build_model``'s shape (its
  learned parameters, read off scikit-learn's objects); None for a pipeline
  of another shape, which is scored as it is."""
  try:
    union = pipeline.named_steps['features']
    classifier = pipeline.named_steps['classifier']
    regression = classifier.regression_
    if union.transformer_weights or len(regression.classes_) < 3:
      return None
    vectorizers = []
    for _, vectorizer in union.transformer_list:
      shape_of_build_model = (
        vectorizer.sublinear_tf
        and vectorizer.use_idf
        and vectorizer.norm == 'l2'
        and not vectorizer.binary
        and vectorizer.strip_accents == 'unicode'
        and vectorizer.lowercase
        and vectorizer.stop_words is None
        and vectorizer.tokenizer is None
        and (
          (vectorizer.analyzer == 'char_wb' and vectorizer.preprocessor is None)
          or (
            vectorizer.analyzer == 'word'
            and getattr(vectorizer.preprocessor, '__name__', None) == 'spaced_words'
            and vectorizer.token_pattern == WORD_PATTERN
          )
        )
      )
      if not shape_of_build_model:
        return None
      vocabulary = vectorizer.vocabulary_
      terms = [''] * len(vocabulary)
      for term, index in vocabulary.items():
        terms[index] = term
      vectorizers.append(
        Vectorizer(
          vectorizer.analyzer,
          tuple(vectorizer.ngram_range),
          terms,
          vectorizer.idf_,
          np.dtype(vectorizer.dtype).name,
        )
      )
    return NgramScorer(
      vectorizers, regression.coef_, regression.intercept_, classifier.temperature_
    )
  except (AttributeError, KeyError, TypeError, ValueError, ModelDataError):
    return None


# Texts a scorer is checked on against the pipeline it was read from:
# accents, CJK, short words, markup-like characters, spaces of all kinds,
# nothing.
CHECK_TEXTS = (
  'Der Bürgermeister eröffnete am Montag die neue Straßenbahnlinie.',
  'El presidente anunció nuevas elecciones. ¿Quién ganará? Él no sabe.',
  '政府は火曜日に新しい予算を発表した。中国队赢得了比赛。',
  'A  b\tcd e\u00a0fg\n\nhij  k — “quoted” café naïve Ἀθῆναι  ',
  'Москва: цены на нефть выросли на 3%, сообщил министр.',
  '',
)


def gives_pipeline_scores(
  scorer: NgramScorer, pipeline, texts: Sequence[str] = CHECK_TEXTS
) -> bool:
  """Whether `scorer` gives `pipeline`'s own probabilities on `texts`,
  bit for bit."""
  try:
    return bool(np.array_equal(scorer.probabilities(texts), pipeline.predict_proba(list(texts))))
  except Exception:  # a pipeline the scorer misreads
    return False


class TopicModel:
  """A trained model file, loaded: scores texts, names their top topics.

  A file holds the scorer's parameters (`scorer`, written by
  ``save_model``), or, written before those were stored or for a pipeline
  of another shape, the fitted pipeline (`model`), whose unpickling imports
  scikit-learn.
  """

  def __init__(self, artifact: Any):
    if not isinstance(artifact, dict) or artifact.get('format') != MODEL_FORMAT:
      raise ModelDataError('not a newsbeam topic model (want format %s)' % MODEL_FORMAT)
    self.codes = artifact['codes']
    self.card = {k: v for k, v in artifact.items() if k not in ('model', 'scorer')}
    self.pipeline = None
    if 'scorer' in artifact:
      self.scorer: Optional[NgramScorer] = NgramScorer.from_parameters(
        pickle.loads(artifact['scorer'])
      )
      return
    model = artifact['model']
    # Files written before save_model pickled the pipeline apart hold it
    # as an object.
    self.pipeline = pickle.loads(model) if isinstance(model, bytes) else model
    self.scorer = pipeline_scorer(self.pipeline)
    if self.scorer is not None and not gives_pipeline_scores(self.scorer, self.pipeline):
      self.scorer = None

  @classmethod
  def load(cls, f: BinaryIO) -> 'TopicModel':
    import joblib

    return cls(joblib.load(f))

  def scores(self, texts: Sequence[str]) -> List[Dict[str, float]]:
    """Per text, each topic code's probability."""
    if self.scorer is not None:
      probabilities = self.scorer.probabilities(texts)
    else:
      probabilities = self.pipeline.predict_proba(list(texts))
    return [dict(zip(self.codes, row.tolist())) for row in probabilities]
