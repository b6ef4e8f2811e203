"""Behaviour kept while making the pipeline cheaper (issue 8): model files
load either way they were written, dedup decides on light stubs and
joins the decisions back onto the records, ...

Models are trained on tests/fixtures/topics.jsonl as in test_classify.py.
"""

import pickle

import apache_beam as beam
import joblib
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipelines import train_classifier
from tests.test_classify import LABELLED, UNSEEN
from tests.test_dedup import BODY
from transforms import schema
from transforms.dedup.batch import Deduplicate
from transforms.topics.model import TopicModel


@pytest.fixture(scope='module')
def model_path(tmp_path_factory):
  folder = tmp_path_factory.mktemp('model')
  config = folder / 'small.yaml'
  config.write_text('classify:\n  training:\n    word_min_df: 1\n    char_min_df: 1\n')
  path = str(folder / 'topics.joblib')
  train_classifier.run(
    ['--data', LABELLED, '--output', path, '--config', str(config), '--test-size', '0']
  )
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
  joblib.dump(dict(artifact, model=pickle.loads(artifact['model'])), older, compress=('xz', 6))
  with open(older, 'rb') as f:
    assert TopicModel.load(f).scores(texts) == scores
  assert [max(s, key=s.get) for s in scores] == list(UNSEEN)


def test_an_input_read_twice_is_kept_once_as_its_better_ranked_copy(config):
  """Two records with one id (the same text under the same URL, listed on
  two days of a backfill): the better-ranked is kept, standing for both and
  for a near copy of it; the other is its exact duplicate."""
  first = schema.with_id(
    schema.new_article(
      url='https://a.example/1',
      canonical_url='https://a.example/1',
      body=BODY,
      title='Listed first',
      published_at='2022-04-01T00:00:00Z',
    )
  )
  again = dict(first, title='Listed again', published_at='2022-04-05T00:00:00Z')
  near = schema.with_id(
    schema.new_article(
      url='https://b.example/wire',
      canonical_url='https://b.example/wire',
      body=BODY.replace('Word3 ', 'Term3 '),
      published_at='2022-04-02T00:00:00Z',
    )
  )
  with TestPipeline() as p:
    kept, duplicates, _ = p | beam.Create([again, near, first]) | Deduplicate(config['dedup'])
    assert_that(
      kept | 'Kept' >> beam.Map(lambda a: (a['title'], a['cluster_size'])),
      equal_to([('Listed first', 3)]),
      label='kept',
    )
    assert_that(
      duplicates
      | 'Dups'
      >> beam.Map(
        lambda d: (d['id'], d['title'], d['duplicate_of'], d['duplicate_rule'], d['cluster_size'])
      ),
      equal_to(
        [
          (first['id'], 'Listed again', first['id'], 'exact_body', None),
          (near['id'], None, first['id'], 'near', None),
        ]
      ),
      label='duplicates',
    )
