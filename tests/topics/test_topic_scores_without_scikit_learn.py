"""The n-gram topic model is scored without scikit-learn
(``transforms/topics/ngrams.py``), and its scores are the fitted pipeline's
own, bit for bit: features and probabilities, on texts in many languages and
scripts, odd spacing, short words and empty text. A model file holds the
scorer's parameters and loads without importing scikit-learn; a file holding
the pipeline (as written before) gives the same scores; a pipeline of
another shape is kept and scored as it is."""

import json
import os
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer, strip_accents_unicode
from sklearn.pipeline import FeatureUnion, Pipeline

from configs.loading import load_config
from tests.helpers import FIXTURES, LABELLED, UNSEEN
from transforms.topics import model as topic_model
from transforms.topics import ngrams
from transforms.topics.articles import load_topic_model, packaged_model_path
from transforms.topics.ngrams import TopicModel, char_wb_ngrams, pipeline_scorer, strip_accents

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

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
def artifact(small_config):
  """A model trained on the fixture, as training returns it (the fitted
  pipeline in it)."""
  config = load_config(small_config)
  with open(LABELLED, encoding='utf-8') as f:
    examples = topic_model.read_examples(
      f.read().splitlines(),
      topic_model.label_index(config['taxonomy'], config['classify']['label_names']),
      LABELLED,
    )
  return topic_model.train(examples, config['classify'], 0, 13, 'topics.jsonl')[0]


def same_matrix(a, b) -> bool:
  return (
    a.shape == b.shape
    and a.dtype == b.dtype
    and np.array_equal(a.indptr, b.indptr)
    and np.array_equal(a.indices, b.indices)
    and np.array_equal(a.data, b.data)
  )


def test_character_ngrams_are_scikit_learns():
  analyze = TfidfVectorizer(analyzer='char_wb', ngram_range=(3, 5)).build_analyzer()
  for text in texts():
    assert char_wb_ngrams(text.lower(), (3, 5)) == analyze(text.lower())


def test_features_and_scores_are_the_pipelines_own_bit_for_bit(artifact):
  pipeline, given = artifact['model'], texts()
  scorer = pipeline_scorer(pipeline)
  assert same_matrix(scorer.features(given), pipeline.named_steps['features'].transform(given))
  assert np.array_equal(scorer.probabilities(given), pipeline.predict_proba(given))
  # One text at a time, or in another order: each text's scores the same.
  assert np.array_equal(
    np.vstack([scorer.probabilities([text]) for text in given]), pipeline.predict_proba(given)
  )
  assert np.array_equal(scorer.probabilities(given[::-1])[::-1], pipeline.predict_proba(given))


def test_batches_without_words_and_a_word_table_started_over_score_the_same(artifact, monkeypatch):
  pipeline, given = artifact['model'], texts()
  scorer = pipeline_scorer(pipeline)
  empty = ['', ' ', '\n\n']
  assert same_matrix(scorer.features(empty), pipeline.named_steps['features'].transform(empty))
  assert np.array_equal(scorer.probabilities(empty), pipeline.predict_proba(empty))
  # The table of each word's character n-grams starts over every few words,
  # within a batch: the features are the same.
  monkeypatch.setattr(ngrams._WordTerms, 'LIMIT', 7)
  fresh = pipeline_scorer(pipeline)
  assert same_matrix(fresh.features(given), pipeline.named_steps['features'].transform(given))


def test_a_model_file_holds_the_scorer_and_an_older_one_the_pipeline(artifact, tmp_path):
  path = tmp_path / 'topics.joblib'
  with open(path, 'wb') as f:
    topic_model.save_model(artifact, f)
  saved = joblib.load(path)
  assert 'scorer' in saved and 'model' not in saved
  given = texts()
  scores = load_topic_model(str(path)).scores(given)
  expected = artifact['model'].predict_proba(given)
  assert np.array_equal(np.array([[s[c] for c in artifact['codes']] for s in scores]), expected)
  # Files written before held the pipeline, pickled apart or as an object:
  # the scorer is read off it, with the same scores.
  card = {k: v for k, v in saved.items() if k != 'scorer'}
  for model in (pickle.dumps(artifact['model']), artifact['model']):
    older = tmp_path / 'older.joblib'
    joblib.dump(dict(card, model=model), older)
    with open(older, 'rb') as f:
      loaded = TopicModel.load(f)
    assert loaded.scorer is not None
    assert loaded.scores(given) == scores


def test_a_pipeline_of_another_shape_is_kept_and_scored_as_it_is(artifact, tmp_path):
  fitted = artifact['model']
  union = fitted.named_steps['features']
  weighted = FeatureUnion(union.transformer_list, transformer_weights={'words': 2.0, 'chars': 1.0})
  other = Pipeline([('features', weighted), ('classifier', fitted.named_steps['classifier'])])
  assert pipeline_scorer(other) is None
  path = tmp_path / 'other.joblib'
  with open(path, 'wb') as f:
    topic_model.save_model(dict(artifact, model=other), f)
  assert 'model' in joblib.load(path) and 'scorer' not in joblib.load(path)
  given = texts()
  model = load_topic_model(str(path))
  assert model.scorer is None
  scores = np.array([[s[c] for c in model.codes] for s in model.scores(given)])
  assert np.array_equal(scores, other.predict_proba(given))


def test_the_packaged_model_scores_without_importing_scikit_learn():
  script = (
    'import sys\n'
    'from transforms.topics.articles import load_topic_model, packaged_model_path\n'
    'model = load_topic_model(packaged_model_path("ngrams"))\n'
    'scores = model.scores(sys.argv[1:])\n'
    'print(sorted(m for m in ("sklearn", "scipy.special") if m in sys.modules))\n'
    'print([max(s, key=s.get) for s in scores])\n'
  )
  done = subprocess.run(
    [sys.executable, '-c', script, *UNSEEN.values()],
    cwd=ROOT,
    capture_output=True,
    text=True,
    check=True,
  )
  imported, best = done.stdout.splitlines()
  assert imported == '[]'
  assert best == str(list(UNSEEN))
  # ... and the scores are those of the same model in this process.
  packaged = load_topic_model(packaged_model_path('ngrams'))
  assert packaged.scorer is not None
  assert best == str([max(s, key=s.get) for s in packaged.scores(list(UNSEEN.values()))])


def test_accents_are_stripped_as_scikit_learn_strips_them():
  # Every character of the basic and supplementary planes but surrogates,
  # in runs, and each alone.
  every = [chr(c) for c in range(0x30000) if not 0xD800 <= c < 0xE000]
  for start in range(0, len(every), 4096):
    run = ''.join(every[start : start + 4096])
    assert strip_accents(run) == strip_accents_unicode(run)
  for c in every[::97]:
    assert strip_accents(c) == strip_accents_unicode(c)
