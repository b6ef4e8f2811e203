"""Both language backends behind `language.backend`: ISO 639-1 codes,
deterministic answers, the same fragment rules; config checks."""

import pytest
import yaml

from configs.loading import ConfigError, load_config
from transforms import schema
from transforms.language.detector import LanguageDetector

ENGLISH = (
  'The council voted on Monday to extend the tram line to the new '
  'hospital, a project that has been discussed for more than ten years.'
)
FRENCH = (
  'Laissez un commentaire ci-dessous et abonnez-vous à notre lettre '
  "d'information pour recevoir les dernières nouvelles chaque matin."
)


@pytest.fixture(
  scope='module',
  params=[
    {'backend': 'langdetect'},
    {'backend': 'lingua', 'lingua_low_accuracy': True},
  ],
  ids=['langdetect', 'lingua'],
)
def detector(request, config):
  return LanguageDetector(dict(config['language'], **request.param))


@pytest.mark.parametrize(
  'text, code',
  [
    (ENGLISH, 'en'),
    (FRENCH, 'fr'),
    ('北京今天天气很好，我们去公园散步吧。', 'zh'),
    ('Городской совет в понедельник проголосовал за продление трамвайной линии.', 'ru'),
  ],
)
def test_codes_are_iso_639_1_and_deterministic(detector, text, code):
  answers = {detector.detect(text) for _ in range(3)}
  assert len(answers) == 1
  assert answers.pop()[0] == code


def test_same_script_foreign_paragraph_is_cut_and_named(detector):
  labelled = detector.label(
    schema.new_article(body='\n\n'.join([ENGLISH, ENGLISH.replace('ten', 'nine'), FRENCH]))
  )
  assert labelled['language'] == 'en'
  assert labelled['body'] == ENGLISH + '\n\n' + ENGLISH.replace('ten', 'nine')
  [cut] = labelled['removed']
  assert (cut['reason'], cut['language']) == ('foreign_language', 'fr')


def test_unknown_backend_is_a_clear_config_error(tmp_path):
  path = tmp_path / 'bad.yaml'
  path.write_text(yaml.safe_dump({'language': {'backend': 'fasttext'}}))
  with pytest.raises(ConfigError, match='language.backend'):
    load_config(str(path))


def test_fragments_judged_foreign_are_never_most_of_the_text(config):
  body = '\n\n'.join([ENGLISH, ENGLISH.replace('ten', 'nine'), FRENCH])
  # The French paragraph is a quarter of the words: an aside at the default
  # share, too much of the text at a share of 0.2.
  strict = LanguageDetector(dict(config['language'], fragment_max_cut_share=0.2))
  assert strict.label(schema.new_article(body=body))['body'] == body
  default = LanguageDetector(config['language'])
  assert FRENCH not in default.label(schema.new_article(body=body))['body']


@pytest.mark.parametrize('backend, cut', [('langdetect', False), ('lingua', True)])
def test_short_fragment_is_judged_only_with_models_for_short_text(config, backend, cut):
  # Under lingua's 120 characters for its fast mode, its full models of the
  # two languages decide; langdetect has no such models and keeps it.
  short = 'Laissez un commentaire ci-dessous et abonnez-vous à notre lettre.'
  body = '\n\n'.join([ENGLISH, ENGLISH.replace('ten', 'nine'), short])
  detector = LanguageDetector(dict(config['language'], backend=backend))
  kept = detector.label(schema.new_article(body=body))['body']
  assert kept == (body.rsplit('\n\n', 1)[0] if cut else body)
