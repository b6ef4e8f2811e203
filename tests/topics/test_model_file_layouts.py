"""Topic model files load either way they were written: the fitted
pipeline as one pickled blob (as written now) or as an object (as written
before), with the same scores.

The model is trained on tests/fixtures/topics.jsonl (the `model_path` fixture).
"""

import pickle

import joblib

from tests.helpers import UNSEEN
from transforms.topics.model import TopicModel


def test_model_files_of_both_layouts_give_the_same_scores(model_path, tmp_path):
  texts = list(UNSEEN.values())
  with open(model_path, 'rb') as f:
    scores = TopicModel.load(f).scores(texts)
  # The file holds the fitted pipeline as one pickled blob ...
  artifact = joblib.load(model_path)
  assert isinstance(artifact['model'], bytes)
  # ... and a file written before, holding it as an object, still loads.
  older = str(tmp_path / 'older.joblib')
  joblib.dump(dict(artifact, model=pickle.loads(artifact['model'])), older, compress=('xz', 6))
  with open(older, 'rb') as f:
    assert TopicModel.load(f).scores(texts) == scores
  assert [max(s, key=s.get) for s in scores] == list(UNSEEN)
