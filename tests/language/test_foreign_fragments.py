"""Same-script fragments: short foreign asides cut when the detector is
reliable on them, the article's own short lines and close languages kept;
the language config checked. Documents of our own making."""

import pytest
import yaml

from configs.loading import ConfigError, load_config
from tests.helpers import ENGLISH
from transforms import schema
from transforms.language.detector import LanguageDetector

SPANISH = [
  'El ayuntamiento aprobó el lunes la ampliación de la línea de tranvía '
  'hasta el nuevo hospital, un proyecto discutido durante más de diez años.',
  'Las obras comenzarán la próxima primavera y los primeros tranvías '
  'circularán a finales de 2027, dijo el alcalde a los periodistas.',
  'Los vecinos de los barrios del este se quejan desde hace tiempo de que '
  'los autobuses son lentos y van llenos en la hora punta.',
]
BOKMAL = [
  'Bystyret vedtok mandag å forlenge trikkelinjen til det nye sykehuset, '
  'et prosjekt som har vært diskutert i mer enn ti år.',
  'Arbeidet skal etter planen starte neste vår, og de første trikkene skal '
  'gå innen utgangen av 2027, sa ordføreren til pressen.',
  'Beboere i de østlige bydelene har lenge klaget over at bussene er trege '
  'og fulle i morgenrushet.',
]
INDONESIAN = [
  'Dewan kota pada hari Senin memutuskan untuk memperpanjang jalur trem ke '
  'rumah sakit baru, sebuah proyek yang sudah dibahas lebih dari sepuluh tahun.',
  'Pembangunan diperkirakan dimulai tahun depan, dan trem pertama akan '
  'beroperasi pada akhir 2027, kata wali kota kepada wartawan.',
  'Warga di kawasan timur sudah lama mengeluh bahwa bus lambat dan penuh '
  'sesak pada jam sibuk pagi hari.',
]


def label(detector, paragraphs):
  return detector.label(schema.new_article(body='\n\n'.join(paragraphs)))


@pytest.mark.parametrize(
  'story, footer, story_code, footer_code',
  [
    (ENGLISH, 'Laisser un commentaire', 'en', 'fr'),
    (
      ENGLISH,
      'Diese Website verwendet Cookies, um Ihnen das beste Erlebnis zu bieten.',
      'en',
      'de',
    ),
    (SPANISH, 'Leave a comment', 'es', 'en'),
  ],
  ids=['fr-comment-prompt-under-en', 'de-cookie-line-under-en', 'en-comment-prompt-under-es'],
)
def test_short_same_script_footer_is_cut_and_named(
  detector, story, footer, story_code, footer_code
):
  labelled = label(detector, story + [footer])
  assert labelled['language'] == story_code
  assert labelled['body'] == '\n\n'.join(story)
  [cut] = labelled['removed']
  assert (cut['reason'], cut['language'], cut['rule']) == (
    'foreign_language',
    footer_code,
    'lingua',
  )


@pytest.mark.parametrize(
  'footer, footer_code',
  [
    ('Jätä kommentti ja tilaa uutiskirjeemme.', 'fi'),
    ('Lisa kommentaar ja telli meie uudiskiri.', 'et'),
  ],
  ids=['fi-comment-prompt-under-en', 'et-comment-prompt-under-en'],
)
def test_short_footer_outside_the_main_languages_is_cut_when_fasttext_agrees(
  config, detector, footer, footer_code
):
  # No full models are loaded for Finnish or Estonian: fastText, a second
  # model, must read the line as the language lingua's fast mode names.
  labelled = label(detector, ENGLISH + [footer])
  assert labelled['body'] == '\n\n'.join(ENGLISH)
  assert [cut['language'] for cut in labelled['removed']] == [footer_code]
  alone = LanguageDetector(dict(config['language'], short_fragment_fast_min_probability=None))
  assert label(alone, ENGLISH + [footer])['body'] == '\n\n'.join(ENGLISH + [footer])


@pytest.mark.parametrize(
  'line',
  [
    'read more about the tram line here',
    'the mayor said on monday',
    'Tickets cost two euros per ride.',
    'Reporting by Jane Doe; Editing by Mark Potter',
    'Photo: Kyle Busch and Ana Lúcia Ferreira at the opening',
    '| 1 | Kyle Busch | 5040 | 5 | 1 | 17 | 27 |',
  ],
)
def test_short_lines_of_the_story_itself_are_kept(detector, line):
  body = ENGLISH[:2] + [line] + ENGLISH[2:]
  labelled = label(detector, body)
  assert labelled['language'] == 'en'
  assert labelled['body'] == '\n\n'.join(body) and labelled['removed'] == []


@pytest.mark.parametrize(
  'story, line',
  [
    (BOKMAL, 'Tilmeld dig vores nyhedsbrev og få de seneste nyheder hver morgen.'),  # Danish
    (
      INDONESIAN,
      'Sila langgan surat berita kami untuk mendapatkan berita terkini setiap pagi.',
    ),  # Malay
  ],
  ids=['da-under-nb', 'ms-under-id'],
)
def test_close_language_is_not_cut(detector, story, line):
  labelled = label(detector, story + [line])
  assert labelled['body'] == '\n\n'.join(story + [line])


def test_langdetect_never_cuts_short_fragments(config):
  # langdetect has no models made for short text.
  langdetect = LanguageDetector(dict(config['language'], backend='langdetect'))
  body = ENGLISH + ['Laisser un commentaire']
  assert label(langdetect, body)['body'] == '\n\n'.join(body)


def test_labels_and_cuts_are_the_same_on_every_run(config):
  body = ENGLISH + ['Laisser un commentaire', 'Leave a comment']
  first = label(LanguageDetector(config['language']), body)
  again = LanguageDetector(config['language'])
  assert all(label(again, body) == first for _ in range(3))


@pytest.mark.parametrize(
  'key, value',
  [
    ('close_languages', [['ms', 'indonesian']]),
    ('close_languages', 'ms,id'),
    ('main_languages', ['english']),
    ('fragment_max_chars', 0),
    ('short_fragment_languages', 'some'),
    ('fast_detector', 'cld3'),
    ('fast_detector', True),
    ('fast_document_min_probability', 1.5),
    ('fast_fragment_min_probability', -0.1),
    ('fast_fragment_min_probability', 'high'),
    ('short_fragment_fast_min_probability', 1.2),
  ],
)
def test_bad_language_settings_are_clear_config_errors(tmp_path, key, value):
  path = tmp_path / 'bad.yaml'
  path.write_text(yaml.safe_dump({'language': {key: value}}))
  with pytest.raises(ConfigError, match='language.%s' % key):
    load_config(str(path))


def test_without_full_models_only_long_fragments_are_cut(config):
  detector = LanguageDetector(dict(config['language'], short_fragment_languages='none'))
  french = (
    'Laissez un commentaire ci-dessous et abonnez-vous à notre lettre '
    "d'information pour recevoir les dernières nouvelles chaque matin."
  )
  labelled = label(detector, ENGLISH + ['Laisser un commentaire', french])
  assert labelled['body'] == '\n\n'.join(ENGLISH + ['Laisser un commentaire'])
  assert [cut['language'] for cut in labelled['removed']] == ['fr']
