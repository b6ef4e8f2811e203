"""A page's authors and date as trafilatura and htmldate find them, for less:
trafilatura's author search in one walk of the page (the same author), the
extensive date search run only where the fast one finds nothing."""

import pytest
from trafilatura.metadata import extract_author

from transforms.text import authors as author_search
from transforms.text.authors import page_author
from transforms.text.page import extract_page, parse_page

STORY = [
  'The city council approved a new flood barrier for the old harbour on '
  'Monday, after two winters of damage to homes along the quay.',
  'Work on the barrier starts in March and should end before the autumn '
  'storms, the council said in a statement after the vote.',
]


def news_page(extra='', head=''):
  """A story page without an author meta tag, `extra` printed above the
  story's paragraphs."""
  return (
    '<html><head><title>Flood barrier approved</title>%s</head><body>'
    '<article><h1>Flood barrier approved</h1>%s%s</article></body></html>'
    % (head, extra, ''.join('<p>%s</p>' % p for p in STORY))
  )


def extract(page_html):
  return extract_page(page_html, 'https://harbour.example/barrier', latest_date='2026-01-01')


@pytest.mark.parametrize(
  'byline',
  [
    '<span class="byline">By Jane Doe</span>',
    '<a rel="author" href="/staff/jane">Jane Doe</a>',
    '<div itemprop="author">Jane Doe</div>',
    '<span class="Author-Name">Jane Doe</span>',
    '<p class="article-writer">Jane Doe</p>',
    '<div data-component="Byline">Jane Doe</div>',
    '<div class="BBL">Jane Doe</div>',
    '<span id="zuozhe">Jane Doe</span>',
    '<author>Jane Doe</author>',
  ],
)
def test_byline_in_the_page_gives_the_author_trafilatura_finds(byline):
  page_html = news_page(byline)
  assert extract(page_html)['authors'] == ['Jane Doe']
  assert extract_author(parse_page(page_html)) == 'Jane Doe'


@pytest.mark.parametrize(
  'byline',
  [
    # The date inside the byline is not part of the name.
    '<span class="byline">By Jane Doe <time>12 March 2021</time></span>',
    # Text on both sides of a deleted element joins as trafilatura joins it.
    '<span class="byline">Jane<time>12 March</time>Doe</span>',
    # A byline in a sidebar or a comment is not the story's.
    '<div class="sidebar"><span class="byline">By Sam Roe</span></div>'
    '<p class="byline">By Jane Doe</p>',
    # The first selector (names that mark the author) before bylines, even
    # when a byline comes first on the page.
    '<p class="byline">By Sam Roe</p><a rel="author">Jane Doe</a>',
    # Too long to be a name: the next one.
    '<span class="author">%s</span><span class="author">Jane Doe</span>' % ('word ' * 30),
    '<span class="author"><a rel="author">Jane Doe</a></span>',
  ],
)
def test_one_walk_finds_what_trafilatura_finds(byline):
  tree = parse_page(news_page(byline))
  assert page_author(tree) == extract_author(tree)
  assert page_author(tree)


def test_the_selectors_walked_are_the_installed_trafilaturas():
  # When this fails, trafilatura's selectors changed: its own search runs
  # (correct, slower) until transforms/text/authors.py is translated again.
  assert author_search._translated()


def test_other_selectors_than_those_translated_get_trafilaturas_search(monkeypatch):
  monkeypatch.setattr(author_search, 'SELECTORS', 'another trafilatura')
  author_search._translated.cache_clear()
  try:
    assert not author_search._translated()
    tree = parse_page(news_page('<span class="byline">By Jane Doe</span>'))
    assert page_author(tree) == 'Jane Doe'
  finally:
    monkeypatch.undo()
    author_search._translated.cache_clear()


def test_page_without_byline_has_no_author():
  assert extract(news_page('<p class="kicker">Harbour</p>'))['authors'] == []


def test_commenter_is_not_the_author():
  record = extract(
    news_page('<div class="comments"><span class="author">Harbour Troll</span></div>')
  )
  assert record['authors'] == []


def test_author_meta_tag_comes_before_the_byline():
  record = extract(
    news_page(
      '<span class="byline">By Jane Doe</span>', '<meta name="author" content="John Smith">'
    )
  )
  assert record['authors'] == ['John Smith']


def test_date_in_meta_tags_is_found_with_its_time():
  record = extract(
    news_page(head='<meta property="article:published_time" content="2021-03-12T08:00:00Z">')
  )
  assert record['date'] == '2021-03-12T08:00:00Z'


@pytest.mark.parametrize(
  'dateline',
  [
    '<p>Published on 12 March 2021 by the harbour desk.</p>',
    '<div class="date">viernes, 12 de marzo de 2021</div>',
    '<p>Stand: 12. März 2021</p>',
  ],
)
def test_date_only_the_extensive_search_reads_is_still_found(dateline):
  assert extract(news_page(dateline))['date'] == '2021-03-12'


def test_date_after_the_latest_publication_day_is_not_the_date():
  record = extract(news_page('<p>Published on 12 March 2027 by the desk.</p>'))
  assert record['date'] is None
