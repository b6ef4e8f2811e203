"""Topic classification: labels, the training command, the RunInference model
handler, and the confidence threshold (the packaged models on the sample:
test_packaged_models.py).

Models are trained here on tests/fixtures/topics.jsonl (the `model_path`
fixture): 36 short news items invented for these tests (sport, business,
science and technology, weather).
"""

import json
import os

import apache_beam as beam
import pytest
from apache_beam.ml.inference.base import RunInference
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from gcp_storage_emulator.server import create_server

from configs.loading import ConfigError, load_config
from pipelines import train_classifier
from tests.helpers import (
  BUSINESS,
  LABELLED,
  SPORT,
  TECH,
  UNSEEN,
  WEATHER,
  free_port,
)
from transforms.topics import model as topic_model
from transforms.topics.classify import ClassifyTopics, TopicModelHandler
from transforms.topics.model import TopicModel


def _article(url, title, body):
  return {'url': url, 'feed_url': None, 'title': title, 'body': body}


def test_labels_resolve_from_codes_taxonomy_labels_and_names(config):
  index = topic_model.label_index(config['taxonomy'], config['classify']['label_names'])
  lines = [
    json.dumps({'text': 'x', 'label': label})
    for label in ('medtop:15000000', 'Sport', 'tech', 'science and technology', 'weather')
  ]
  codes = [e['code'] for e in topic_model.read_examples(lines, index, 'f')]
  assert codes == [SPORT, SPORT, TECH, TECH, WEATHER]
  with pytest.raises(topic_model.ModelDataError, match='f line 2: unknown label'):
    topic_model.read_examples([lines[0], json.dumps({'text': 'x', 'label': 'gossip'})], index, 'f')
  with pytest.raises(topic_model.ModelDataError, match='f line 1 has no "text"'):
    topic_model.read_examples([json.dumps({'label': 'sport'})], index, 'f')


def test_short_forms_of_an_article():
  body = 'Mr. Smith won the race on Sunday. "It was hard," he said.\n\nA second paragraph.'
  assert topic_model.first_sentence(body) == 'Mr. Smith won the race on Sunday.'
  assert topic_model.short_variants('Smith wins', body) == [
    'Smith wins',
    'Smith wins\nMr. Smith won the race on Sunday.',
    'Mr. Smith won the race on Sunday.',
  ]
  assert topic_model.article_text('Smith wins', body, 20) == 'Smith wins\nMr. Smith'


def test_repeated_texts_are_trained_once():
  examples = [
    {'title': 'a', 'text': 'Same  story.', 'code': SPORT},
    {'title': 'b', 'text': 'same story.', 'code': SPORT},
    {'title': 'c', 'text': 'Another story.', 'code': SPORT},
  ]
  assert [e['title'] for e in topic_model.dedupe_examples(examples)] == ['a', 'c']


def test_train_command_prints_held_out_metrics_and_writes_a_model(tmp_path, small_config, capsys):
  args = ['--data', LABELLED, '--config', small_config, '--test-size', '0.34', '--seed', '3']
  first = train_classifier.run(args + ['--output', str(tmp_path / 'a.joblib')])
  printed = capsys.readouterr().out
  for variant in ('full text', 'headline', 'headline + first sentence'):
    assert 'held out, %s: accuracy' % variant in printed
  assert 'macro-F1' in printed and 'medtop:17000000 weather' in printed
  assert first['full text']['per_class'][WEATHER]['support'] == 3
  # Same data, config and seed: same figures.
  second = train_classifier.run(args + ['--output', str(tmp_path / 'b.joblib')])
  assert first == second
  with open(tmp_path / 'a.joblib', 'rb') as f:
    model = TopicModel.load(f)
  assert model.codes == [BUSINESS, TECH, SPORT, WEATHER]
  assert model.card['held_out'] == first and model.card['articles'] == 36


def test_train_command_rejects_bad_data_clearly(tmp_path):
  data = tmp_path / 'bad.jsonl'
  data.write_text('{"text": "a", "label": "sport"}\n{"text": "b", "label": "x"}\n')
  with pytest.raises(SystemExit, match='line 2: unknown label'):
    train_classifier.run(['--data', str(data), '--output', str(tmp_path / 'm.joblib')])


def test_handler_loads_once_and_scores_batches(model_path):
  handler = TopicModelHandler(model_path, min_batch_size=1, max_batch_size=2)
  assert handler.batch_elements_kwargs() == {'min_batch_size': 1, 'max_batch_size': 2}
  model = handler.load_model()
  results = list(handler.run_inference(list(UNSEEN.values()), model))
  assert [r.example for r in results] == list(UNSEEN.values())
  for code, result in zip(UNSEEN, results):
    assert set(result.inference) == {SPORT, BUSINESS, TECH, WEATHER}
    assert sum(result.inference.values()) == pytest.approx(1.0)
    assert max(result.inference, key=result.inference.get) == code


class _CountingHandler(TopicModelHandler):
  """The real handler, counting its model loads and batch sizes."""

  loads = 0
  batches = []

  def load_model(self):
    type(self).loads += 1
    return super().load_model()

  def run_inference(self, batch, model, inference_args=None):
    type(self).batches.append(len(batch))
    return super().run_inference(batch, model, inference_args)


def test_run_inference_loads_the_model_once_for_many_batches(model_path):
  texts = [UNSEEN[SPORT]] * 9
  with TestPipeline() as p:
    codes = (
      p
      | beam.Create(texts)
      | RunInference(_CountingHandler(model_path, 1, 2))
      | beam.Map(lambda r: max(r.inference, key=r.inference.get))
    )
    assert_that(codes, equal_to([SPORT] * 9))
  assert _CountingHandler.loads == 1
  assert sum(_CountingHandler.batches) == 9
  assert max(_CountingHandler.batches) <= 2


def test_topics_under_min_score_are_left_out(config):
  taxonomy = config['taxonomy']
  scores = {SPORT: 0.5, BUSINESS: 0.3, TECH: 0.2}
  assert topic_model.top_topics(scores, taxonomy, 0.6, 3) == []
  assert topic_model.top_topics(scores, taxonomy, 0.25, 3) == [
    {'code': SPORT, 'label': 'sport', 'score': 0.5},
    {'code': BUSINESS, 'label': 'economy, business and finance', 'score': 0.3},
  ]
  assert [t['code'] for t in topic_model.top_topics(scores, taxonomy, 0, 1)] == [SPORT]


def _assert_topics(config, articles, expected):
  """Runs ClassifyTopics; expected: url -> list of topic codes."""
  with TestPipeline() as p:
    result = p | beam.Create(articles) | ClassifyTopics(config['classify'], config['taxonomy'])
    codes = result.articles | beam.Map(lambda a: (a['url'], [t['code'] for t in a['topics']]))
    assert_that(codes, equal_to(list(expected.items())), label='Topics')
    assert_that(result.dead_letter, equal_to([]), label='NoDeadLetters')


def test_classify_topics_confidence_threshold(config, model_path):
  articles = [_article(code, text, '') for code, text in UNSEEN.items()]
  confident = dict(
    config, classify=dict(config['classify'], model=model_path, min_score=0.0, max_topics=1)
  )
  _assert_topics(confident, articles, {code: [code] for code in UNSEEN})
  # Every score is under 1: nothing is sure enough, so no topic at all.
  unsure = dict(config, classify=dict(config['classify'], model=model_path, min_score=1.0))
  _assert_topics(unsure, articles, {code: [] for code in UNSEEN})


def test_a_batch_the_model_fails_on_becomes_dead_letters(config, tmp_path):
  # A model file written without training: scoring raises NotFittedError.
  path = str(tmp_path / 'untrained.joblib')
  with open(path, 'wb') as f:
    topic_model.save_model(
      {
        'format': topic_model.MODEL_FORMAT,
        'model': topic_model.build_model(config['classify']['training']),
        'codes': [SPORT, BUSINESS],
      },
      f,
    )
  untrained = dict(config['classify'], model=path)
  articles = [_article(code, text, '') for code, text in UNSEEN.items()]
  with TestPipeline() as p:
    result = p | beam.Create(articles) | ClassifyTopics(untrained, config['taxonomy'])
    assert_that(result.articles, equal_to([]), label='NoArticles')
    assert_that(
      result.dead_letter
      | beam.Map(
        lambda d: (d['url'], d['stage'], 'NotFittedError' in d['error'], d['raw']['title'])
      ),
      equal_to([(a['url'], 'classify', True, a['title']) for a in articles]),
      label='DeadLetters',
    )


@pytest.fixture
def cloud_storage():
  """The Cloud Storage emulator on 127.0.0.1 with a bucket `models`."""
  port = free_port()
  server = create_server('127.0.0.1', port, in_memory=True, default_bucket='models')
  server.start()
  previous = os.environ.get('STORAGE_EMULATOR_HOST')
  os.environ['STORAGE_EMULATOR_HOST'] = 'http://127.0.0.1:%d' % port
  yield
  if previous is None:
    del os.environ['STORAGE_EMULATOR_HOST']
  else:
    os.environ['STORAGE_EMULATOR_HOST'] = previous
  server.stop()


def test_model_written_to_and_loaded_from_cloud_storage(small_config, cloud_storage):
  gs_model = 'gs://models/topics/model.joblib'
  train_classifier.run(
    ['--data', LABELLED, '--output', gs_model, '--config', small_config, '--test-size', '0']
  )
  model = TopicModelHandler(gs_model, 1, 2).load_model()
  scores = model.scores([UNSEEN[WEATHER]])[0]
  assert max(scores, key=scores.get) == WEATHER


def test_missing_model_file_is_a_config_error(tmp_path):
  path = tmp_path / 'c.yaml'
  path.write_text('classify:\n  model: nowhere/topics.joblib\n')
  with pytest.raises(ConfigError, match='classify.model: no model file at .*nowhere/topics.joblib'):
    load_config(str(path))
