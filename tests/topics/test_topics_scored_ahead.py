"""Topics worked out ahead of dedup, in a child of the pool (not the
language stages' one, where the pool has two): the child scores groups of
articles with the model it loaded (each text once),
classification takes those topics for the articles whose text is still the
one scored and scores the others itself, nothing written carries what was
worked out ahead, and a run gives the same records as one where the worker
scores every article."""

import os

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.helpers import (
  BUSINESS,
  SPORT,
  UNSEEN,
  WEATHER,
  bundle_outputs,
  multi_story_page,
  outputs_with_and_without_pool,
  pooled_stage_outputs,
  story_html,
)
from transforms import schema
from transforms.text.digest import text_digest
from transforms.topics import articles
from transforms.topics.articles import (
  article_text,
  load_topic_model,
  top_topics,
  topic_model_path,
)
from transforms.topics.classify import SCORING_SLOT, ClassifyTopics, _ScoreAheadFn


def test_a_process_scores_each_text_once_as_the_model_does(config, monkeypatch):
  path = topic_model_path(config['classify'])
  model = load_topic_model(path)
  texts = list(UNSEEN.values())
  monkeypatch.setattr(articles, '_SCORED', {})
  monkeypatch.setattr(articles, 'SCORED_KEPT', 3)
  # A text given twice is scored once; beyond SCORED_KEPT the oldest go.
  assert articles.topic_scores(path, texts + texts[:1]) == model.scores(texts + texts[:1])
  assert len(articles._SCORED) == 3
  assert articles.topic_scores(path, texts[::-1]) == model.scores(texts[::-1])


def loaded_models():
  """Run in a child of the pool: the model files it has loaded."""
  return sorted(articles._LOADED)


def test_a_child_of_its_own_scores_the_articles_with_the_model_it_loaded(config):
  extract = dict(config['extract'], processes=2)
  stage = _ScoreAheadFn(config['classify'], config['taxonomy'], extract)
  records = [
    {'url': 'https://news.example/%d' % n, 'title': None, 'body': text}
    for n, text in enumerate(list(UNSEEN.values()) * 5)
  ]
  out, (in_child, children) = pooled_stage_outputs(
    stage,
    records,
    extract,
    lambda pool: (
      pool.pinned(SCORING_SLOT)(loaded_models),
      {pool.pinned(slot)(os.getpid) for slot in (0, SCORING_SLOT)},
    ),
  )
  path = topic_model_path(config['classify'])
  assert in_child == [path]  # the stage's own child, not the language stages'
  assert len(children) == 2
  model = load_topic_model(path)
  classify = config['classify']
  for record, outcome in zip(records, out, strict=True):
    text = article_text(record['title'], record['body'], classify['max_chars'])
    expected = top_topics(
      model.scores([text])[0], config['taxonomy'], classify['min_score'], classify['max_topics']
    )
    assert outcome[schema.TOPICS_AHEAD] == {'from': text_digest(text), 'topics': expected}


def test_without_the_pool_articles_go_on_unscored(config):
  stage = _ScoreAheadFn(config['classify'], config['taxonomy'], config['extract'])
  stage.setup()
  record = {'url': 'https://news.example/1', 'title': 'A title', 'body': UNSEEN[SPORT]}
  out = bundle_outputs(stage, [record])
  stage.teardown()
  assert out == [record]


def test_classification_takes_topics_worked_out_from_the_text_it_reads(config, model_path):
  classify = dict(config['classify'], model=model_path, min_score=0.0, max_topics=1)
  worked_out = [{'code': 'medtop:20000000', 'label': 'a label', 'score': 0.99}]

  def article(url, text, ahead_from=None):
    record = {'url': url, 'feed_url': None, 'title': 'News', 'body': text}
    if ahead_from is not None:
      record[schema.TOPICS_AHEAD] = {'from': text_digest(ahead_from), 'topics': worked_out}
    return record

  same = article_text('News', UNSEEN[SPORT], classify['max_chars'])
  inputs = [
    article('same', UNSEEN[SPORT], ahead_from=same),
    article('changed', UNSEEN[BUSINESS], ahead_from='an earlier text of the article'),
    article('none', UNSEEN[WEATHER]),
  ]
  with TestPipeline() as p:
    result = p | beam.Create(inputs) | ClassifyTopics(classify, config['taxonomy'])
    assert_that(
      result.articles
      | beam.Map(lambda a: (a['url'], [t['code'] for t in a['topics']], schema.TOPICS_AHEAD in a)),
      equal_to(
        [
          ('same', ['medtop:20000000'], False),
          ('changed', [BUSINESS], False),
          ('none', [WEATHER], False),
        ]
      ),
    )


def test_a_model_that_cannot_be_loaded_stops_the_run(config, tmp_path):
  broken = tmp_path / 'broken.joblib'
  broken.write_bytes(b'not a model')
  classify = dict(config['classify'], model=str(broken))
  inputs = [{'url': 'u', 'feed_url': None, 'title': 'News', 'body': UNSEEN[SPORT]}]
  with pytest.raises(Exception, match='TopicModelUnusable.*cannot be loaded'):
    with TestPipeline() as p:
      p | beam.Create(inputs) | ClassifyTopics(classify, config['taxonomy'])


def test_a_run_gives_the_same_records_whether_the_child_or_the_worker_scores(tmp_path):
  stories = [
    ('Tram line to the hospital', UNSEEN[BUSINESS]),
    ('Storm on the coast', UNSEEN[WEATHER]),
    ('Cup final', UNSEEN[SPORT]),
  ]
  pages = [
    {'url': 'https://news.example/%d' % n, 'html': multi_story_page(story_html(title, body))}
    for n, (title, body) in enumerate(stories)
  ]
  # A copy under another URL: a duplicate, which is written without topics.
  pages.append(dict(pages[0], url='https://mirror.example/0'))
  outputs = outputs_with_and_without_pool(tmp_path, pages, '--min-words', '5')
  assert outputs['pool'] == outputs['worker']
  assert len(outputs['pool']['articles']) == 3 and len(outputs['pool']['duplicates']) == 1
  for records in outputs['pool'].values():
    for record in records:
      assert not set(schema.WORKED_AHEAD) & set(record)
      raw = record.get('raw')
      assert not (isinstance(raw, dict) and set(schema.WORKED_AHEAD) & set(raw))
  assert all(r['topics'] for r in outputs['pool']['articles'])
