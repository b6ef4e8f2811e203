"""A page's author from its markup: trafilatura's author search, in one walk.

trafilatura's ``extract_author`` copies the whole page, deletes from the copy
what cannot hold the author (AUTHOR_DISCARD_XPATHS: comments, sidebars, dates,
figures...), then runs its AUTHOR_XPATHS over it: three scans whose regular
expressions lxml calls back into Python for, element by element. On a news
page that is over 6 ms, more than all its other metadata together. Here the
same selectors are read in one walk of the page itself, with no copy: the
same author for a third of the cost.

The selectors are trafilatura 2.3's, translated one for one. A trafilatura
whose selectors differ gets its own search (``SELECTORS``), so an upgrade
cannot make authors drift.
"""

import copy
import functools
import hashlib
import re
from typing import Optional

# sha256 of trafilatura's AUTHOR_XPATHS and AUTHOR_DISCARD_XPATHS texts, one
# a line: the selectors translated below.
SELECTORS = 'bd5f280624916a837f627a558a6f87d6ebde80d97a00908c8a856c7b7b9eae82'

# AUTHOR_XPATHS[0]: names and ids that mark the author, and <author>.
_FIRST_TAGS = frozenset(('a', 'address', 'div', 'link', 'p', 'span', 'strong'))
_FIRST_CLASS = re.compile('author-?name|AuthorName|authorName')
# AUTHOR_XPATHS[1]: bylines.
_SECOND_TAGS = frozenset(('a', 'div', 'h3', 'h4', 'p', 'span'))
_SECOND_CLASSES = frozenset(('byline', 'username', 'byl', 'BBL'))
_SECOND_ID = re.compile('author|zuozhe|bianji|xiaobian')
_SECOND_CLASS = re.compile(
  'author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name'
)
# AUTHOR_XPATHS[2]: any element.
_THIRD_ID = re.compile('[Aa]uthor')
_THIRD_CLASS = re.compile('[Aa]uthor|screenname|writer|[Bb]yline')
# AUTHOR_DISCARD_XPATHS: comments, sidebars, titles, dates, figures.
_DISCARD_TAGS = frozenset(('a', 'div', 'section', 'span'))
_DISCARD_CLASSES = frozenset(('comments', 'title', 'date'))
_DISCARD_ID = re.compile('^comments|comment-?list|ProductReviews')
_DISCARD_CLASS = re.compile(
  '^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|'
  'embedly-instagram|article-(?:share|support)|print|category|meta-date|'
  'meta-reviewer'
)


@functools.cache
def _translated() -> bool:
  from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS, AUTHOR_XPATHS

  text = '\n'.join(x.path for x in AUTHOR_XPATHS + AUTHOR_DISCARD_XPATHS)
  return hashlib.sha256(text.encode('utf-8')).hexdigest() == SELECTORS


def page_author(tree) -> Optional[str]:
  """The author trafilatura's ``extract_author`` finds in a parsed page (as
  ``page_text.parse_page`` gives it; left unchanged), or None."""
  from trafilatura.htmlprocessing import prune_unwanted_nodes
  from trafilatura.metadata import extract_author, normalize_authors
  from trafilatura.utils import trim
  from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS

  if not _translated():
    return extract_author(tree)
  found, discarded = _candidates(tree)
  for candidates in found:  # selector by selector, each in document order
    for element in candidates:
      if element in discarded or any(a in discarded for a in element.iterancestors()):
        continue
      if any(d in discarded for d in element.iterdescendants()):
        # Its text as in trafilatura's pruned copy (tails kept, joined).
        element = prune_unwanted_nodes(copy.deepcopy(element), AUTHOR_DISCARD_XPATHS)
      content = trim(' '.join(element.itertext()))
      if content and 2 < len(content) < 120:
        return normalize_authors(None, content)
  return None


def _candidates(tree):
  """([the elements each of AUTHOR_XPATHS selects], {the elements
  AUTHOR_DISCARD_XPATHS select}), on the page as it is."""
  from lxml import etree

  first, second, third, discarded = [], [], [], set()
  # A child <rel> reading 'me' (the first selector's `rel='me'`) is so rare
  # that it is looked for only on a page that has one.
  has_rel = tree.find('.//rel') is not None
  for element in tree.iter(etree.Element):
    tag, get = element.tag, element.get
    classes, id_ = get('class') or '', get('id') or ''
    itemprop, component = get('itemprop') or '', get('data-component') or ''
    # (No pattern here matches an empty value: it is not searched.)
    if tag in ('time', 'figure') or (
      tag in _DISCARD_TAGS
      and element is not tree
      and (
        id_ == 'comments'
        or classes in _DISCARD_CLASSES
        or (id_ and _DISCARD_ID.search(id_))
        or (classes and _DISCARD_CLASS.search(classes))
        or 'Figure' in component
      )
    ):
      discarded.add(element)
    if tag == 'author' or (
      tag in _FIRST_TAGS
      and (
        get('rel') == 'author'
        or id_ == 'author'
        or classes == 'author'
        or itemprop == 'author name'
        or (classes and _FIRST_CLASS.search(classes))
        or get('data-testid') in ('AuthorCard', 'AuthorURL')
        or (has_rel and any(r.xpath('string()') == 'me' for r in element.iterchildren('rel')))
      )
    ):
      first.append(element)
    if not (classes or id_ or itemprop or component):
      continue
    if tag in _SECOND_TAGS and (
      classes in _SECOND_CLASSES
      or 'author' in itemprop
      or (id_ and _SECOND_ID.search(id_))
      or (classes and _SECOND_CLASS.search(classes))
    ):
      second.append(element)
    if (
      'Byline' in component
      or 'author' in itemprop
      or (id_ and _THIRD_ID.search(id_))
      or (classes and _THIRD_CLASS.search(classes))
    ):
      third.append(element)
  return (first, second, third), discarded
