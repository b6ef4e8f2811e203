"""Cleaning and language on the seed page and pages of our own, without Beam."""

import pytest

from transforms import schema
from transforms.extract import build_article
from transforms.language.backends import iso_639_1
from transforms.text.cleaning import headline_markers

SEED_TITLES = [
  'Russia Claims Ukraine Is Staging Civilian Killings To Accuse Moscow Of War Crimes',
  'Zelensky Accuses Russia Of Genocide, Says Peace Negotiations \u2018Might Not Happen\u2019 Now',
]


def _process(text, cleaner, detector, **fields):
  article = build_article(dict({'url': 'https://n.example/p', 'text': text}, **fields))
  return [detector.label(story) for story in cleaner.clean(article)]


def test_seed_page_gives_two_clean_english_stories(seed_text, cleaner, detector):
  stories = _process(seed_text, cleaner, detector)
  assert [s['title'] for s in stories] == SEED_TITLES
  assert [s['part'] for s in stories] == [0, 1]
  for story in stories:
    body = story['body']
    assert story['language'] == 'en'
    assert story['title'] not in body
    for junk in (
      'Post a Comment',
      'Previous Post Next Post',
      'AD News',
      'Disclaimer',
      'facebook twitter telegram',
    ):
      assert junk not in body
    assert not any('\u0600' <= c <= '\u06ff' for c in body)
  footer = [r for r in stories[1]['removed'] if r['reason'] == schema.FOREIGN_LANGUAGE]
  assert footer == [
    {
      'text': '\u0646\u0645\u0648\u0630\u062c \u0627\u0644\u0627\u062a\u0635\u0627\u0644',
      'reason': 'foreign_language',
      'language': 'ar',
      'rule': 'script:Arabic',
    }
  ]
  reasons = {r['reason'] for r in stories[1]['removed']}
  assert {'repeated_title', 'boilerplate', 'foreign_language'} <= reasons


PARA = (
  'The council voted on Monday to extend the tram line to the new '
  'hospital, a project that has been discussed for more than ten years '
  'and will cost about forty million.'
)


def test_page_with_three_stories_of_our_own_splits(cleaner, detector):
  text = '\n\n'.join(
    [
      'Menu',
      'Tram line reaches the hospital',
      'Tram line reaches the hospital',
      PARA,
      PARA.replace('Monday', 'Tuesday'),
      'Library opens on Sundays',
      'Library opens on Sundays',
      PARA.replace('tram line', 'library hours'),
      PARA,
      'Share on Facebook',
      'Bridge closed for repairs',
      'Bridge closed for repairs',
      PARA.replace('tram', 'bridge'),
      PARA.replace('tram', 'road'),
      'Read more: ten places to eat this weekend',
    ]
  )
  stories = _process(text, cleaner, detector)
  assert [s['title'] for s in stories] == [
    'Tram line reaches the hospital',
    'Library opens on Sundays',
    'Bridge closed for repairs',
  ]
  assert 'Share on Facebook' not in stories[1]['body']
  assert 'Read more' not in stories[2]['body']
  assert stories[0]['removed'][0] == schema.removed_fragment(
    'Menu', schema.BOILERPLATE, rule='page_header'
  )


def test_single_story_is_not_split_and_keeps_part_zero(cleaner, detector):
  stories = _process(
    '\n\n'.join([PARA, PARA.replace('ten', 'twelve')]), cleaner, detector, title='Tram vote'
  )
  assert len(stories) == 1 and stories[0]['part'] == 0


def test_doubled_ad_label_is_not_a_headline(cleaner):
  blocks = ['AD News', 'AD News', PARA, PARA]
  assert headline_markers(blocks, 25, 10, cleaner.boilerplate_kind) == []


def test_headline_repeated_at_body_start_is_cut(cleaner, detector):
  stories = _process(
    'Tram vote passes\n\nTram vote passes.\n\n' + PARA, cleaner, detector, title='Tram vote passes'
  )
  assert stories[0]['body'] == PARA
  assert [r['reason'] for r in stories[0]['removed']] == ['repeated_title'] * 2


@pytest.mark.parametrize(
  'line',
  [
    'Post a Comment',
    'Previous Post Next Post',
    'AD News',
    'Advertisement',
    'facebook twitter telegram reddit vk pinterest youtube external-link',
    'Share this article',
    'Subscribe to our newsletter',
    'We use cookies to improve your experience. Accept',
    '\u00a9 2022 Coast Watch Media. All rights reserved.',
    '- Order Reprints',
    '- Print Article',
    'Like this story? Share it with a friend!',
    'Also on coastwatch.example Ten places to see the storm from safely',
    'Write to Mara Lindqvist at mara@coastwatch.example',
    'Email Mara Lindqvist at mara@coastwatch.example or follow her @mara.',
    'Tags',
    'Laisser un commentaire',
    'Kommentar schreiben',
    'Deja un comentario',
    'An error has occurred, please try again later.',
    'This copy is for your personal, non-commercial use only.',
  ],
)
def test_boilerplate_lines(cleaner, line):
  assert cleaner.boilerplate_kind(line)


@pytest.mark.parametrize(
  'line',
  [
    PARA,
    'Share prices fell sharply on Monday after the bank reported losses.',
    'The advertisement industry is changing fast, analysts say, as budgets move online.',
    'Email the council at info@city.example if you want to comment on the plan.',
    'Also on Monday, the council voted to close the old bridge for repairs.',
    'The reprints of the book sold out quickly, the publisher said on Monday.',
  ],
)
def test_story_lines_are_not_boilerplate(cleaner, line):
  assert cleaner.boilerplate_kind(line) is None


def test_cyrillic_footer_is_cut_and_named(detector):
  article = schema.new_article(
    body=PARA + '\n\n' + PARA + '\n\n'
    'Подпишитесь на наш канал в Телеграме, чтобы первыми узнавать главные новости дня'
  )
  labelled = detector.label(article)
  assert labelled['body'] == PARA + '\n\n' + PARA
  assert labelled['removed'][0]['language'] == 'ru'


def test_language_is_deterministic_and_iso_639_1(detector):
  text = 'Le conseil municipal a voté lundi la prolongation du tramway.'
  assert len({detector.detect(text) for _ in range(5)}) == 1
  assert iso_639_1('zh-cn') == 'zh' and iso_639_1('en') == 'en'
  assert detector.detect('北京今天天气很好，我们去公园散步吧。')[0] == 'zh'


def test_long_same_script_foreign_paragraph_is_cut(detector):
  french = (
    'Laissez un commentaire ci-dessous et abonnez-vous à notre lettre '
    "d'information pour recevoir les dernières nouvelles chaque matin."
  )
  labelled = detector.label(
    schema.new_article(body='\n\n'.join([PARA, PARA.replace('ten', 'nine'), french]))
  )
  assert labelled['language'] == 'en'
  assert french not in labelled['body']
  assert labelled['removed'][-1]['language'] == 'fr'


def test_table_rows_and_names_in_the_body_language_are_not_cut(detector):
  rows = [
    '| 1 | Kyle Busch | 5040 | 5 | 1 | 17 | 27 |',
    'Blade Runner The Final Cut Ultra HD Blu-Ray Steelbook Collector Edition',
    '\u201eFemale founders must constantly consider how they are perceived '
    'in business and in life,\u201c sagt sie.',
  ]
  italian = (
    'Il consiglio comunale ha votato luned\u00ec il prolungamento della '
    'linea del tram fino al nuovo ospedale, un progetto discusso da anni.'
  )
  body = '\n\n'.join(
    [
      italian,
      rows[0],
      italian.replace('anni', 'mesi'),
      rows[1],
      italian.replace('tram', 'autobus'),
      rows[2],
      italian.replace('nuovo', 'vecchio'),
    ]
  )
  labelled = detector.label(schema.new_article(body=body))
  assert labelled['language'] == 'it'
  assert labelled['body'] == body and labelled['removed'] == []


def test_latin_brand_name_in_a_japanese_sentence_is_not_a_foreign_script(detector):
  japanese = (
    '\u4eca\u65e5\u306f\u6771\u4eac\u3067\u65b0\u3057\u3044\u96fb\u8eca'
    '\u306e\u8def\u7dda\u304c\u958b\u901a\u3057\u307e\u3057\u305f\u3002'
  )
  brand = '\u203b\u300ciPhone\u300d\u306f\u3001Apple Inc.\u306e\u5546\u6a19\u3067\u3059\u3002'
  labelled = detector.label(schema.new_article(body='\n\n'.join([japanese, japanese, brand])))
  assert labelled['language'] == 'ja'
  assert brand in labelled['body']


def test_vowel_signs_count_with_their_script(detector):
  # Hindi writes most vowels as combining signs: counted with their letters,
  # the body is Devanagari even beside a longer English line.
  hindi = '\u0906\u091c \u0936\u0939\u0930 \u092e\u0947\u0902 \u092c\u093e\u0930\u093f\u0936 \u0939\u0941\u0908\u0964'
  english = 'Subscribe to our channel today'
  labelled = detector.label(
    schema.new_article(
      body='\n\n'.join([hindi, hindi.replace('\u0906\u091c', '\u0915\u0932'), english])
    )
  )
  assert labelled['body'] == '\n\n'.join([hindi, hindi.replace('\u0906\u091c', '\u0915\u0932')])
  assert labelled['removed'][0]['rule'] == 'script:Latin'
