"""The training command learns topics from labels in languages other than
English, Chinese included (no word spaces), and the model it writes finds
them in new articles in those languages.

tests/fixtures/topics_multilingual.jsonl: 27 short news items in French,
Russian and Chinese invented for these tests (sport, business, weather).
"""

import os

from pipelines import train_classifier
from tests.helpers import BUSINESS, FIXTURES, SPORT, WEATHER
from transforms.topics.classify import TopicModelHandler

MULTILINGUAL = os.path.join(FIXTURES, 'topics_multilingual.jsonl')

# New items, not in the fixture.
UNSEEN = [
  (SPORT, 'Le gardien arrête un penalty et son équipe gagne le match'),
  (BUSINESS, 'La bourse recule, les actions des banques baissent'),
  (WEATHER, 'Prévisions météo : pluie, vent et orages demain'),
  (SPORT, 'Клуб забил три гола и выиграл матч чемпионата'),
  (BUSINESS, 'Прибыль компании выросла, акции подорожали на бирже'),
  (WEATHER, 'Синоптики: завтра снег, ветер и мороз'),
  (SPORT, '球队在决赛中打进三球赢得比赛'),
  (BUSINESS, '银行利润下降，股市股票下跌'),
  (WEATHER, '天气预报：明天有雪和大风，气温下降'),
]


def test_a_model_trained_on_labels_in_three_languages_finds_their_topics(
  tmp_path, small_config, capsys
):
  path = str(tmp_path / 'multilingual.joblib')
  report = train_classifier.run(
    ['--data', MULTILINGUAL, '--output', path, '--config', small_config, '--test-size', '0.34']
  )
  assert 'held out, full text: accuracy' in capsys.readouterr().out
  assert set(report['full text']['per_class']) == {SPORT, BUSINESS, WEATHER}
  model = TopicModelHandler(path, 1, 2).load_model()
  assert model.codes == [BUSINESS, SPORT, WEATHER]
  scores = model.scores([text for _, text in UNSEEN])
  assert [max(s, key=s.get) for s in scores] == [code for code, _ in UNSEEN]
