"""The trained IPTC Media Topics model: what it reads, how it learns, what it says.

Plain functions and one small class, with no Beam in them: the training
command (`pipelines.train_classifier`), the benchmark and the pipeline's
model handler (`transforms/topics/classify.py`) all go through here, so an article
is turned into the model's text, and a label into a code, in one way only.

The model is a scikit-learn pipeline: word 1-2 gram TF-IDF beside character
3-5 gram TF-IDF (within word boundaries), feeding a multinomial logistic
regression whose probabilities, calibrated by a temperature fitted on
held-out folds, are the topic scores. Character n-grams still match when a
publisher writes "footballer" where the training set said "football", and
both views work on a headline alone. Each training article is also learned
as its headline, its headline and first sentence, and its first sentence,
because feed items are often no more than that.

A model file holds what scoring needs of the fitted pipeline (its
vocabularies, weights and temperature), scored without scikit-learn by
``transforms/topics/ngrams.py``. It is a joblib pickle: load only model
files you trust.
"""

import hashlib
import json
import pickle
import random
import re
from typing import Any, BinaryIO, Dict, Iterable, List, Optional, Sequence, Tuple

import joblib
import numpy as np
import sklearn
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.model_selection import KFold, train_test_split
from sklearn.pipeline import FeatureUnion, Pipeline

# What the model reads of an article, and the topics its scores give: in a
# module of their own, which a worker attaching topics imports without
# scikit-learn.
from transforms.topics.articles import article_text, top_topics  # noqa: F401

# The model file, its scorer and loader: in a module without scikit-learn,
# which scores in the pool's children and the workers.
from transforms.topics.ngrams import (  # noqa: F401
  MODEL_FORMAT,
  WORD_PATTERN,
  ModelDataError,
  TopicModel,
  gives_pipeline_scores,
  pipeline_scorer,
  spaced_words,
)

# Held-out articles are scored as published and in the short forms feeds carry.
EVALUATION_VARIANTS = ('full text', 'headline', 'headline + first sentence')

# A sentence ends with ., ! or ? (and maybe a closing quote or bracket)
# before whitespace and a capital, a digit or an opening quote.
_SENTENCE_END = re.compile(r'(?<=[.!?])["\'\u201d\u2019)]?\s+(?=["\'\u201c\u2018(]?[A-Z0-9])')
# ... unless the period ends a title or an initial ("Mr.", "J. Smith").
_ABBREVIATION = re.compile(
  r'\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|Gen|Gov|Sen|Rep|Rev|Co|Corp|Inc|Ltd|'
  r'No|vs|[A-Z])\.$'
)
_SPACES = re.compile(r'\s+')


def first_sentence(body: Optional[str]) -> str:
  """The first sentence of a body (its whole first paragraph when no
  sentence end is found)."""
  paragraph = (body or '').strip().split('\n\n', 1)[0]
  sentence = ''
  for piece in _SENTENCE_END.split(paragraph):
    sentence = ('%s %s' % (sentence, piece)).strip()
    if not _ABBREVIATION.search(sentence):
      break
  return sentence


def headline_lead(title: Optional[str], body: Optional[str]) -> str:
  """The headline and first sentence: what a typical feed item carries."""
  return ('%s\n%s' % ((title or '').strip(), first_sentence(body))).strip()


def short_variants(title: Optional[str], body: Optional[str]) -> List[str]:
  """The shorter forms of an article learned beside the full text: the
  headline, the headline and first sentence, and the first sentence."""
  variants = [(title or '').strip(), headline_lead(title, body), first_sentence(body)]
  return [v for v in dict.fromkeys(variants) if v]


def label_index(taxonomy: Dict[str, str], label_names: Dict[str, str]) -> Dict[str, str]:
  """Every accepted training label, lower-cased -> IPTC code: the codes, the
  taxonomy's labels and the configured label names."""
  index = {code.lower(): code for code in taxonomy}
  index.update({label.lower(): code for code, label in taxonomy.items()})
  index.update({name.lower(): code for name, code in label_names.items()})
  return index


def read_examples(lines: Iterable[str], index: Dict[str, str], origin: str) -> List[Dict[str, str]]:
  """Labelled articles from JSON Lines `{text, title?, label}`; the label is
  resolved to its IPTC code. Raises ModelDataError naming the bad line."""
  examples = []
  for number, line in enumerate(lines, 1):
    if not line.strip():
      continue
    where = '%s line %d' % (origin, number)
    try:
      record = json.loads(line)
    except ValueError as e:
      raise ModelDataError('%s is not JSON: %s' % (where, e)) from e
    if not isinstance(record, dict):
      raise ModelDataError('%s is not a JSON object' % where)
    text, title = record.get('text'), record.get('title')
    if not isinstance(text, str) or not text.strip():
      raise ModelDataError('%s has no "text"' % where)
    if title is not None and not isinstance(title, str):
      raise ModelDataError('%s: "title" must be a string' % where)
    code = index.get(str(record.get('label', '')).strip().lower())
    if code is None:
      raise ModelDataError(
        '%s: unknown label %r; use an IPTC code (medtop:NNNNNNNN), a '
        'taxonomy label or a name in classify.label_names' % (where, record.get('label'))
      )
    examples.append({'title': title or '', 'text': text, 'code': code})
  return examples


def dedupe_examples(examples: Sequence[Dict[str, str]]) -> List[Dict[str, str]]:
  """The examples without repeated texts (case and spacing ignored), so that
  no copy of a held-out article is trained on."""
  kept = {}
  for example in examples:
    key = hashlib.sha1(
      _SPACES.sub(' ', example['text']).strip().lower().encode('utf-8')
    ).hexdigest()
    kept.setdefault(key, example)
  return list(kept.values())


class CalibratedLogisticRegression(ClassifierMixin, BaseEstimator):
  """Logistic regression with probabilities calibrated by temperature.

  On TF-IDF features logistic regression is underconfident, more so on short
  texts. One temperature, fitted on the held-out folds' log-probabilities,
  sharpens or flattens them into calibrated probabilities; being a single
  number it keeps the ranking of the topics and stays sane on small training
  sets (where a weak model gets flat scores, hence no topic). The folds are
  not shuffled: fit_model keeps an article's forms next to each other, so
  they fall in one fold.
  """

  def __init__(self, C: float = 1.0, folds: int = 3, balanced: bool = False):
    self.C = C
    self.folds = folds
    self.balanced = balanced

  def _regression(self):
    return LogisticRegression(
      C=self.C, max_iter=1000, class_weight='balanced' if self.balanced else None
    )

  def fit(self, X, y):
    y = np.asarray(y)
    self.classes_ = np.unique(y)
    held_out = np.full((X.shape[0], len(self.classes_)), np.log(1e-9))
    for train, test in KFold(self.folds).split(X):
      fold = self._regression().fit(X[train], y[train])
      columns = np.searchsorted(self.classes_, fold.classes_)
      held_out[np.ix_(test, columns)] = fold.predict_log_proba(X[test])
    truth = np.searchsorted(self.classes_, y)

    def loss(log_t):
      log_p = log_softmax(held_out / np.exp(log_t), axis=1)
      return -log_p[np.arange(len(truth)), truth].mean()

    self.temperature_ = float(np.exp(minimize_scalar(loss, bounds=(-4, 4), method='bounded').x))
    self.regression_ = self._regression().fit(X, y)
    return self

  def predict_proba(self, X):
    return softmax(self.regression_.predict_log_proba(X) / self.temperature_, axis=1)

  def predict(self, X):
    return self.classes_[self.predict_proba(X).argmax(axis=1)]


def build_model(training: Dict[str, Any]) -> Pipeline:
  """An untrained topic model with the `classify.training` settings."""

  def tfidf(analyzer, ngrams, min_df, max_features):
    return TfidfVectorizer(
      analyzer=analyzer,
      ngram_range=ngrams,
      min_df=min_df,
      max_features=max_features,
      sublinear_tf=True,
      strip_accents='unicode',
      **(
        {'preprocessor': spaced_words, 'token_pattern': WORD_PATTERN} if analyzer == 'word' else {}
      ),
      dtype=np.float32,
    )

  return Pipeline(
    [
      (
        'features',
        FeatureUnion(
          [
            ('words', tfidf('word', (1, 2), training['word_min_df'], training['word_features'])),
            ('chars', tfidf('char_wb', (3, 5), training['char_min_df'], training['char_features'])),
          ]
        ),
      ),
      (
        'classifier',
        CalibratedLogisticRegression(
          C=training['regularization'],
          folds=training['calibration_folds'],
          balanced=training['balanced_topics'],
        ),
      ),
    ]
  )


def fit_model(
  examples: Sequence[Dict[str, str]], training: Dict[str, Any], max_chars: int, seed: int
) -> Pipeline:
  """Trains on each article's full text and, when `training.short_variants`
  is on, its short forms; the articles are shuffled with `seed` so that the
  calibration folds mix topics."""
  examples = list(examples)
  random.Random(seed).shuffle(examples)
  texts, codes = [], []
  for example in examples:
    forms = [article_text(example['title'], example['text'], max_chars)]
    if training['short_variants']:
      forms += short_variants(example['title'], example['text'])
    texts += forms
    codes += [example['code']] * len(forms)
  model = build_model(training).fit(texts, codes)
  # The terms min_df/max_features dropped are kept only for inspection and
  # would multiply the file's size.
  for _, vectorizer in model.named_steps['features'].transformer_list:
    vectorizer.stop_words_ = None
  # Single precision halves the file: 17 topics by up to 250,000 terms.
  regression = model.named_steps['classifier'].regression_
  regression.coef_ = regression.coef_.astype(np.float32)
  regression.intercept_ = regression.intercept_.astype(np.float32)
  return model


def evaluation_texts(examples: Sequence[Dict[str, str]], variant: str, max_chars: int) -> List[str]:
  if variant == 'headline':
    return [e['title'] for e in examples]
  if variant == 'headline + first sentence':
    return [headline_lead(e['title'], e['text']) for e in examples]
  return [article_text(e['title'], e['text'], max_chars) for e in examples]


def scores_report(truth: Sequence[str], predicted: Sequence[str]) -> Dict[str, Any]:
  """Accuracy, macro-F1 and per-class precision/recall/F1/support."""
  codes = sorted(set(truth) | set(predicted))
  precision, recall, f1, support = precision_recall_fscore_support(
    truth, predicted, labels=codes, zero_division=0
  )
  return {
    'accuracy': round(float(accuracy_score(truth, predicted)), 4),
    'macro_f1': round(
      float(
        f1_score(truth, predicted, labels=sorted(set(truth)), average='macro', zero_division=0)
      ),
      4,
    ),
    'per_class': {
      code: {
        'precision': round(float(p), 4),
        'recall': round(float(r), 4),
        'f1': round(float(f), 4),
        'support': int(s),
      }
      for code, p, r, f, s in zip(codes, precision, recall, f1, support)
    },
  }


def evaluate(
  model: Pipeline, examples: Sequence[Dict[str, str]], max_chars: int
) -> Dict[str, Dict[str, Any]]:
  """Held-out scores per evaluation variant (headline variants only when
  the examples have headlines)."""
  truth = [e['code'] for e in examples]
  report = {}
  for variant in EVALUATION_VARIANTS:
    if variant != 'full text' and not all(e['title'] for e in examples):
      continue
    report[variant] = scores_report(
      truth, model.predict(evaluation_texts(examples, variant, max_chars))
    )
  return report


def train(
  examples: Sequence[Dict[str, str]],
  classify: Dict[str, Any],
  test_size: float,
  seed: int,
  trained_on: str,
) -> Tuple[Dict[str, Any], Dict[str, Any]]:
  """Dedupes, holds out `test_size` of the articles (stratified by topic) to
  measure the model, then trains the model to ship on all of them.

  Returns the model artifact (for save_model) and the held-out report
  (empty when test_size is 0).
  """
  training, max_chars = classify['training'], classify['max_chars']
  examples = dedupe_examples(examples)
  codes = sorted({e['code'] for e in examples})
  if len(codes) < 2:
    raise ModelDataError('training needs at least two topics, got %s' % codes)
  report = {}
  if test_size:
    try:
      train_part, test_part = train_test_split(
        examples, test_size=test_size, random_state=seed, stratify=[e['code'] for e in examples]
      )
    except ValueError as e:
      raise ModelDataError(
        'cannot hold out %s of %d articles by topic: %s' % (test_size, len(examples), e)
      ) from e
    report = evaluate(fit_model(train_part, training, max_chars, seed), test_part, max_chars)
  model = fit_model(examples, training, max_chars, seed)
  artifact = {
    'format': MODEL_FORMAT,
    'model': model,
    'codes': [str(c) for c in model.classes_],
    'trained_on': trained_on,
    'articles': len(examples),
    'held_out': report,
    'scikit_learn': sklearn.__version__,
  }
  return artifact, report


def save_model(artifact: Dict[str, Any], f: BinaryIO) -> None:
  """Writes a model file: the scorer's parameters (``NgramScorer``, which
  scores without scikit-learn) where they give the fitted pipeline's own
  scores, else the pipeline. Either goes in as one pickled blob: joblib's own
  unpickler, written in Python, took 1.6 s of every worker's start-up over
  the vocabularies' 190,000 terms, the C unpickler 0.1 s. Compressed with
  zlib, not xz: 5% larger, read in 0.09 s of CPU against 0.83 s, in every
  worker that loads it."""
  pipeline = artifact['model']
  saved = {k: v for k, v in artifact.items() if k not in ('model', 'scorer')}
  scorer = pipeline_scorer(pipeline)
  if scorer is not None and gives_pipeline_scores(scorer, pipeline):
    saved['scorer'] = pickle.dumps(scorer.parameters(), protocol=pickle.HIGHEST_PROTOCOL)
  else:
    saved['model'] = pickle.dumps(pipeline, protocol=pickle.HIGHEST_PROTOCOL)
  joblib.dump(saved, f, compress=('zlib', 9))
