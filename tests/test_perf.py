"""Behaviour kept while making the pipeline cheaper (issue 8): model files
load either way they were written, ...

Models are trained on tests/fixtures/topics.jsonl as in test_classify.py.
"""

import pickle

import joblib
import pytest

from pipelines import train_classifier
from transforms.topic_model import TopicModel
from tests.test_classify import LABELLED, UNSEEN


@pytest.fixture(scope='module')
def model_path(tmp_path_factory):
  folder = tmp_path_factory.mktemp('model')
  config = folder / 'small.yaml'
  config.write_text('classify:\n  training:\n    word_min_df: 1\n'
                    '    char_min_df: 1\n')
  path = str(folder / 'topics.joblib')
  train_classifier.run(['--data', LABELLED, '--output', path, '--config',
                        str(config), '--test-size', '0'])
  return path


def test_model_files_of_both_layouts_give_the_same_scores(model_path, tmp_path):
  texts = list(UNSEEN.values())
  with open(model_path, 'rb') as f:
    scores = TopicModel.load(f).scores(texts)
  # The file holds the fitted pipeline as one pickled blob ...
  artifact = joblib.load(model_path)
  assert isinstance(artifact['model'], bytes)
  # ... and a file written before, holding it as an object, still loads.
  older = str(tmp_path / 'older.joblib')
  joblib.dump(dict(artifact, model=pickle.loads(artifact['model'])), older,
              compress=('xz', 6))
  with open(older, 'rb') as f:
    assert TopicModel.load(f).scores(texts) == scores
  assert [max(s, key=s.get) for s in scores] == list(UNSEEN)
