"""Pages holding several stories, of our own making: split at headlines
followed by a byline or date line, and at <article> elements."""

import pytest

from tests.helpers import BRIDGE, LIBRARY, TRAM, multi_story_page, story_html
from transforms import schema
from transforms.extract import build_article, build_articles
from transforms.text.cleaning import ArticleCleaner


def _clean(cleaner, paragraphs, title=None):
  return cleaner.clean(
    build_article(
      {'url': 'https://city.example/today', 'title': title, 'text': '\n\n'.join(paragraphs)}
    )
  )


def test_headlines_with_bylines_and_dates_split_the_page(cleaner):
  stories = _clean(
    cleaner,
    [
      'City news',
      'Tram line reaches the hospital',
      'By Mara Lindqvist',
      TRAM,
      TRAM.replace('Monday', 'Tuesday'),
      'Library opens on Sundays',
      'Updated 4 April 2022, 10:15',
      LIBRARY,
      LIBRARY.replace('four', 'five'),
      'Bridge closed for repairs',
      'April 5, 2022',
      BRIDGE,
      BRIDGE,
    ],
  )
  assert [s['title'] for s in stories] == [
    'Tram line reaches the hospital',
    'Library opens on Sundays',
    'Bridge closed for repairs',
  ]
  assert [s['part'] for s in stories] == [0, 1, 2]
  assert stories[1]['body'] == LIBRARY + '\n\n' + LIBRARY.replace('four', 'five')
  assert stories[0]['removed'] == [
    schema.removed_fragment('City news', schema.BOILERPLATE, rule='page_header'),
    schema.removed_fragment('By Mara Lindqvist', schema.BOILERPLATE, rule='byline'),
  ]


def test_one_headline_with_a_byline_is_the_pages_own_story(cleaner):
  [story] = _clean(
    cleaner,
    ['Tram line reaches the hospital', 'By Mara Lindqvist', TRAM, TRAM],
    title='Tram line reaches the hospital | City News',
  )
  assert story['title'] == 'Tram line reaches the hospital'
  assert story['body'] == '\n\n'.join(['By Mara Lindqvist', TRAM, TRAM])
  assert story['part'] == 0


def test_headline_and_byline_without_enough_story_do_not_split(cleaner):
  [story] = _clean(
    cleaner,
    [
      TRAM,
      'Tram line',
      'By Mara Lindqvist',
      'Short.',
      'Library hours',
      'April 5, 2022',
      'Short too.',
    ],
  )
  assert story['part'] == 0 and 'Tram line' in story['body']


@pytest.mark.parametrize('line', ['- 1 pinch of salt', 'Read it on www.city.example today'])
def test_doubled_list_item_or_link_is_not_a_headline(cleaner, line):
  [story] = _clean(cleaner, [TRAM, line, line, TRAM, LIBRARY, BRIDGE])
  assert story['part'] == 0


def test_caption_printed_over_and_over_is_not_a_headline(cleaner):
  caption = 'Click to enlarge the picture'
  [story] = _clean(cleaner, [TRAM, caption, caption, TRAM, LIBRARY, caption, BRIDGE, LIBRARY])
  assert story['part'] == 0 and story['body'].count(caption) == 3


TEASERS = ''.join(
  '<article><h3>%s</h3><p>%s</p></article>' % (h, p)
  for h, p in (('Ferry timetable changes', TRAM), ('Market prices fall', LIBRARY))
)


def test_page_with_several_article_elements_gives_one_record_per_story(config):
  html = multi_story_page(
    story_html('Tram line reaches the hospital', TRAM, TRAM.replace('Monday', 'Tuesday')),
    story_html('Bridge closed for repairs', BRIDGE, BRIDGE.replace('six', 'eight')),
    TEASERS,
  )
  records = build_articles({'url': 'https://city.example/today', 'html': html}, config['extract'])
  assert [(r['title'], r['part']) for r in records] == [
    ('Tram line reaches the hospital', 0),
    ('Bridge closed for repairs', 1),
  ]
  assert 'hospital' in records[0]['body'] and 'bridge' not in records[0]['body']
  assert 'bridge' in records[1]['body'] and 'hospital' not in records[1]['body']
  cleaned = [s for r in records for s in ArticleCleaner(config['clean']).clean(r)]
  assert [s['part'] for s in cleaned] == [0, 1]


def test_one_story_among_teasers_is_one_record(config):
  html = multi_story_page(
    story_html('Tram line reaches the hospital', TRAM, TRAM.replace('Monday', 'Tuesday')), TEASERS
  )
  [record] = build_articles({'url': 'https://city.example/tram', 'html': html}, config['extract'])
  assert record['part'] == 0 and 'hospital' in record['body']


def test_comments_in_article_elements_are_not_stories(config):
  comment = '<article class="comment"><p>%s</p><p>%s</p></article>' % (LIBRARY, BRIDGE)
  html = multi_story_page(
    story_html('Tram line reaches the hospital', TRAM, TRAM.replace('Monday', 'Tuesday')),
    comment,
    comment,
  )
  [record] = build_articles({'url': 'https://city.example/tram', 'html': html}, config['extract'])
  assert record['part'] == 0
