"""Site boilerplate learned in a run: lines a site prints on many of its pages.

Menus, footers, "Read more" links, cookie notices and author boxes are the
site's template, not its stories: the same line on many pages of one domain.
The stage counts, per domain, on how many pages each line appears (once per
page, so a line a story repeats never counts twice), keeps the lines seen on
at least `min_pages` pages and at least `min_share` of the domain's pages, and
cuts them from every page of that domain, recorded in `removed` with reason
`boilerplate` and rule `site_repeated`.

A page whose text is mostly such lines is a copy of another page (dedup's
business), not a template: nothing is cut from it (`max_cut_share`).
"""

import re
from typing import Any, Dict, Mapping, Set, Tuple

from transforms import schema
from transforms.text.page import comparable

RULE = 'site_repeated'

_DIGITS = re.compile(r'\d+')


def normalized_line(block: str) -> str:
  """A paragraph reduced so a template line matches itself on every page:
  case, punctuation, spacing and numbers (dates, counts) ignored."""
  return _DIGITS.sub('0', comparable(block))


def page_lines(article: Dict[str, Any]) -> Set[str]:
  """The distinct normalized lines of a record's body: each counts once."""
  lines = {normalized_line(b) for b in schema.paragraphs(article.get('body'))}
  lines.discard('')
  return lines


def is_site_line(line_pages: int, domain_pages: int, config: Dict[str, Any]) -> bool:
  """Whether a line seen on `line_pages` of a domain's `domain_pages` pages
  is part of the site's template."""
  return line_pages >= config['min_pages'] and line_pages >= config['min_share'] * domain_pages


class SiteBoilerplate:
  """Cuts a domain's learned template lines from one record.

  Args:
    repeated: (domain, normalized line) -> pages, the lines to cut.
    config: the `boilerplate` section of the configuration.
  """

  def __init__(self, repeated: Mapping[Tuple[str, str], int], config: Dict[str, Any]):
    self._repeated = repeated
    self._max_cut_share = config['max_cut_share']

  @classmethod
  def from_counts(
    cls,
    line_pages: Mapping[Tuple[str, str], int],
    domain_pages: Mapping[str, int],
    config: Dict[str, Any],
  ) -> 'SiteBoilerplate':
    """From counts made outside Beam (the benchmark, tests)."""
    return cls(
      {
        key: pages
        for key, pages in line_pages.items()
        if is_site_line(pages, domain_pages[key[0]], config)
      },
      config,
    )

  def cut(self, article: Dict[str, Any]) -> Dict[str, Any]:
    domain = article.get('domain')
    blocks = schema.paragraphs(article.get('body'))
    site = [(domain, normalized_line(b)) in self._repeated for b in blocks]
    cut_words = sum(len(b.split()) for b, s in zip(blocks, site) if s)
    if not cut_words or cut_words > self._max_cut_share * schema.word_count(article.get('body')):
      return article
    removed = list(article.get('removed') or [])
    removed += [
      schema.removed_fragment(b, schema.BOILERPLATE, rule=RULE) for b, s in zip(blocks, site) if s
    ]
    return dict(
      article,
      removed=removed,
      body=schema.join_paragraphs(b for b, s in zip(blocks, site) if not s),
    )
