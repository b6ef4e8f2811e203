"""Pages holding several stories, of our own making: split at headlines
followed by a byline or date line, and at <article> elements."""

import pytest

from transforms import schema
from transforms.clean import ArticleCleaner
from transforms.extract import build_article

TRAM = ('The council voted on Monday to extend the tram line to the new '
        'hospital, a project that has been discussed for more than ten years '
        'and will cost about forty million.')
LIBRARY = ('The central library will open on Sundays from next month, after '
           'readers collected more than four thousand signatures asking for '
           'longer opening hours at weekends.')
BRIDGE = ('The old bridge over the river will close for six weeks of repairs '
          'in the summer, and buses will take the long way round through the '
          'industrial estate.')


@pytest.fixture(scope='module')
def cleaner(config):
  return ArticleCleaner(config['clean'])


def _clean(cleaner, paragraphs, title=None):
  return cleaner.clean(build_article({'url': 'https://city.example/today',
                                      'title': title,
                                      'text': '\n\n'.join(paragraphs)}))


def test_headlines_with_bylines_and_dates_split_the_page(cleaner):
  stories = _clean(cleaner, [
      'City news', 'Tram line reaches the hospital', 'By Mara Lindqvist',
      TRAM, TRAM.replace('Monday', 'Tuesday'),
      'Library opens on Sundays', 'Updated 4 April 2022, 10:15', LIBRARY,
      LIBRARY.replace('four', 'five'),
      'Bridge closed for repairs', 'April 5, 2022', BRIDGE, BRIDGE])
  assert [s['title'] for s in stories] == [
      'Tram line reaches the hospital', 'Library opens on Sundays',
      'Bridge closed for repairs']
  assert [s['part'] for s in stories] == [0, 1, 2]
  assert stories[1]['body'] == LIBRARY + '\n\n' + LIBRARY.replace('four', 'five')
  assert stories[0]['removed'] == [
      schema.removed_fragment('City news', schema.BOILERPLATE, rule='page_header'),
      schema.removed_fragment('By Mara Lindqvist', schema.BOILERPLATE,
                              rule='byline')]


def test_one_headline_with_a_byline_is_the_pages_own_story(cleaner):
  [story] = _clean(cleaner, ['Tram line reaches the hospital',
                             'By Mara Lindqvist', TRAM, TRAM],
                   title='Tram line reaches the hospital | City News')
  assert story['title'] == 'Tram line reaches the hospital'
  assert story['body'] == '\n\n'.join(['By Mara Lindqvist', TRAM, TRAM])
  assert story['part'] == 0


def test_headline_and_byline_without_enough_story_do_not_split(cleaner):
  [story] = _clean(cleaner, [TRAM, 'Tram line', 'By Mara Lindqvist', 'Short.',
                             'Library hours', 'April 5, 2022', 'Short too.'])
  assert story['part'] == 0 and 'Tram line' in story['body']


@pytest.mark.parametrize('line', ['- 1 pinch of salt', 'Read it on www.city.example today'])
def test_doubled_list_item_or_link_is_not_a_headline(cleaner, line):
  [story] = _clean(cleaner, [TRAM, line, line, TRAM, LIBRARY, BRIDGE])
  assert story['part'] == 0


def test_caption_printed_over_and_over_is_not_a_headline(cleaner):
  caption = 'Click to enlarge the picture'
  [story] = _clean(cleaner, [TRAM, caption, caption, TRAM, LIBRARY, caption,
                             BRIDGE, LIBRARY])
  assert story['part'] == 0 and story['body'].count(caption) == 3
