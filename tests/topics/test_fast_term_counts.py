"""The topic model's fast feature path gives scikit-learn's own features,
bit for bit: the packaged model's and a freshly trained one's, on texts in
many languages and scripts and on odd spacing, short words and empty text;
so the scores are the same as the model's own pipeline gives. A model of
another shape is scored the plain way."""

import json
import os

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline

from tests.helpers import UNSEEN
from transforms.topics.articles import load_topic_model, packaged_model_path
from transforms.topics.model import TopicModel, char_wb_ngrams, fast_features, same_matrix

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'fixtures')

ODD = [
  '',
  ' ',
  'a',
  'I a  b\tc\n\nde fgh ijkl',
  'Ἀθῆναι naïve café Ｆｕｌｌｗｉｄｔｈ ﬁ ligature',
  'x' * 300,
  '政府は火曜日に新しい予算を発表した。中国队赢得了比赛。',
  '१२३ ٣٤٥ numbers 2024-05-04 $3.5bn',
]


def texts():
  found = list(ODD) + list(UNSEEN.values())
  with open(os.path.join(FIXTURES, 'topics_multilingual.jsonl'), encoding='utf-8') as f:
    for line in f:
      record = json.loads(line)
      found.append('%s\n\n%s' % (record.get('title') or '', record.get('body') or ''))
  return found


@pytest.fixture(scope='module')
def packaged():
  return load_topic_model(packaged_model_path('ngrams'))


def test_character_ngrams_are_scikit_learns():
  vectorizer = TfidfVectorizer(analyzer='char_wb', ngram_range=(3, 5))
  analyze = vectorizer.build_analyzer()
  for text in texts():
    assert char_wb_ngrams(text.lower(), (3, 5)) == analyze(text.lower())


def test_packaged_model_features_are_scikit_learns_bit_for_bit(packaged):
  model = packaged._model
  given = texts()
  own = model.named_steps['features'].transform(given)
  assert same_matrix(fast_features(model, given, {}), own)
  # The words' terms kept from an earlier call change nothing.
  kept = {}
  fast_features(model, given[::-1], kept)
  assert kept and same_matrix(fast_features(model, given, kept), own)


def test_scores_are_the_pipelines_own(packaged, model_path):
  given = texts()
  with open(model_path, 'rb') as f:
    trained = TopicModel.load(f)
  for model in (packaged, trained):
    assert model._fast
    own = model._model.predict_proba(given)
    assert np.array_equal(np.array([[s[c] for c in model.codes] for s in model.scores(given)]), own)


def test_a_model_of_another_shape_is_scored_the_plain_way(packaged):
  features = packaged._model.named_steps['features']
  other = Pipeline([('union', features), ('classifier', packaged._model.named_steps['classifier'])])
  model = TopicModel(dict(packaged.card, model=other))
  assert not model._fast
  given = texts()
  assert model.scores(given) == packaged.scores(given)
