"""Headlines: the site's name cut from titles, the repeated headline from
bodies; pages of our own making, without Beam."""

import pytest

from transforms.extract import build_article
from transforms.text.cleaning import strip_site_name

STORY = (
  'Forecasters warned on Tuesday that the storm approaching the northern '
  'coast could bring gusts above 140 km/h, and the weather service raised '
  'its alert to the highest level for six coastal districts overnight.'
)


@pytest.mark.parametrize(
  'title, domain, expected',
  [
    ('Storm hits the coast | Coast Watch', 'coastwatch.example', 'Storm hits the coast'),
    ('Storm hits the coast - Coast Watch', 'other.example', 'Storm hits the coast'),
    ('Storm hits the coast \u2014 BBC News', 'bbc.co.uk', 'Storm hits the coast'),
    ('Storm hits the coast | coastwatch.example', 'coastwatch.example', 'Storm hits the coast'),
    ('Coast Watch | Storm hits the coast', 'coastwatch.example', 'Storm hits the coast'),
    ('Storm hits the coast | Analysis | The Times', 'thetimes.co.uk', 'Storm hits the coast'),
  ],
)
def test_site_name_is_cut_from_the_title(title, domain, expected):
  assert strip_site_name(title, domain, 4) == expected


@pytest.mark.parametrize(
  'title',
  [
    'Zelensky accuses Russia - says talks might not happen',
    'Brexit - what happens next for the border',
    'Storm | The',  # the headline keeps two words
    'Update | Deceased crash victims identified',
    'Spider-Man review',
  ],
)
def test_headline_without_a_site_name_is_kept(title):
  assert strip_site_name(title, 'news.example', 4) == title


def _clean(cleaner, title, paragraphs, url='https://coastwatch.example/storm'):
  article = build_article({'url': url, 'title': title, 'text': '\n\n'.join(paragraphs)})
  return cleaner.clean(article)


def test_headline_after_a_byline_is_cut_and_the_byline_kept(cleaner):
  [story] = _clean(
    cleaner,
    'Storm hits the coast | Coast Watch',
    ['By Mara Lindqvist', 'Storm hits the coast', STORY, STORY],
  )
  assert story['title'] == 'Storm hits the coast'
  assert story['body'].split('\n\n') == ['By Mara Lindqvist', STORY, STORY]
  assert [r['reason'] for r in story['removed']] == ['repeated_title']


def test_headline_with_the_site_name_in_the_body_is_cut(cleaner):
  [story] = _clean(
    cleaner, 'Storm hits the coast', ['Storm hits the coast - Coast Watch', '24 May 2022', STORY]
  )
  assert story['body'].split('\n\n') == ['24 May 2022', STORY]


def test_headline_words_later_in_the_story_are_kept(cleaner):
  [story] = _clean(cleaner, 'Storm hits the coast', [STORY, 'Storm hits the coast', STORY])
  assert story['body'].split('\n\n') == [STORY, 'Storm hits the coast', STORY]
