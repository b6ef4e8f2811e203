"""Cleaning: split pages that hold several stories, cut repeated headlines
and boilerplate lines, and record each cut in the record's `removed` list.

The rules are data (``clean`` in configs/default.yaml); ``ArticleCleaner``
compiles them once and applies them to one record at a time, with no Beam in
sight. ``transforms/clean.py`` is the thin Beam stage.
"""

import re
from collections import Counter
from typing import Any, Dict, List, Optional, Set, Tuple

from transforms import schema
from transforms.text.page import comparable

_LIST_ITEM_OR_LINK = re.compile(r'^\s*(?:[-*\u2022\u2013\u2014\u00b7]|\d+[.)])\s|://|\bwww\.')


def looks_like_headline(block: str, max_words: int) -> bool:
  """Short, one line, not ending like a sentence of running text, and not a
  list item or a link."""
  words = block.split()
  if not 2 <= len(words) <= max_words or '\n' in block:
    return False
  return not block.rstrip().endswith(('.', ':', ';', ',')) and not _LIST_ITEM_OR_LINK.search(block)


# Separators between a headline and the site's name in a page title.
_TITLE_SEPARATOR = re.compile(r'\s+(?:\||-|\u2013|\u2014|\u00b7|::|\u00bb)\s+')
_PIPE = re.compile(r'\s+\|\s+')


def squashed(text: Optional[str]) -> str:
  """Comparable text without spaces: 'Coast Watch' and coastwatch meet."""
  return comparable(text).replace(' ', '')


def site_names(domain: Optional[str]) -> List[str]:
  """The names a domain gives its site, squashed: the labels of the host
  that are not a top-level or second-level suffix (`co`, `com`, `uk`)."""
  if not domain:
    return []
  labels = domain.lower().split('.')[:-1]
  return [
    squashed(label)
    for label in labels
    if len(label) > 3 or (len(label) == 3 and label not in ('com', 'net', 'org', 'gov', 'edu'))
  ]


def names_the_site(segment: str, names: List[str]) -> bool:
  key = squashed(segment)
  return bool(key) and any(
    key.startswith(name) or (len(key) >= 3 and name.startswith(key)) for name in names
  )


def looks_like_site_name(segment: str, max_words: int) -> bool:
  """Short, and every word capitalized or a domain (`Coast Watch`,
  `NEWS.com`): how sites sign their titles, unlike the rest of a headline."""
  words = [w for w in segment.split() if any(c.isalpha() for c in w)]
  return (
    0 < len(words) <= max_words
    and not segment.rstrip().endswith(('.', '?', '!', ':', ','))
    and all(w[0].isupper() or w[0].isdigit() or '.' in w for w in words)
  )


def strip_site_name(title: Optional[str], domain: Optional[str], max_words: int) -> Optional[str]:
  """The title without the site's name around it: ' | Site Name', ' - Site'
  or ' \u2014 Site' at the end when the tail names the domain or looks like a
  site name, and 'Site | ' at the start when it names the domain. The
  headline itself always keeps two words or more."""
  if not title:
    return title
  names = site_names(domain)
  while True:
    separators = list(_TITLE_SEPARATOR.finditer(title))
    if not separators:
      return title
    last = separators[-1]
    head, tail = title[: last.start()], title[last.end() :]
    if len(head.split()) >= 2 and (
      names_the_site(tail, names) or looks_like_site_name(tail, max_words)
    ):
      title = head
      continue
    first = _PIPE.search(title)
    if (
      first
      and names_the_site(title[: first.start()], names)
      and len(title[first.end() :].split()) >= 2
    ):
      title = title[first.end() :]
      continue
    return title


def headline_keys(title: str) -> Set[str]:
  """The title, comparable, with and without a section label before ' | '
  ('Opinion | Is Football Violence a Crime?'): the body repeats the
  headline without the page title's label. The headline keeps three words
  or more."""
  keys = {comparable(title)}
  label = _PIPE.search(title)
  if label and len(title[label.end() :].split()) >= 3:
    keys.add(comparable(title[label.end() :]))
  return keys


def _doubled_headlines(blocks: List[str], max_words: int, is_boilerplate) -> List[int]:
  """Indexes of headlines printed twice in a row (the same headline as two
  consecutive paragraphs), and nowhere else on the page: a line printed over
  and over ("Click to enlarge") or a doubled boilerplate line ("AD News",
  "AD News") is not a headline."""
  keys = {}  # block index -> the block, comparable: worked out as needed

  def key(i: int) -> str:
    if i not in keys:
      keys[i] = comparable(blocks[i])
    return keys[i]

  seen = None  # how often each comparable block is on the page, once needed
  found = []
  i = 0
  while i < len(blocks) - 1:
    doubled = looks_like_headline(blocks[i], max_words) and key(i) == key(i + 1)
    if doubled and seen is None:
      seen = Counter(key(j) for j in range(len(blocks)))
    if doubled and seen[key(i)] == 2 and not is_boilerplate(blocks[i]):
      found.append(i)
      i += 2
    else:
      i += 1
  return found


def _with_story(candidates: List[int], blocks: List[str], min_story_words: int) -> List[int]:
  """The candidates followed by at least `min_story_words` words of story
  (after the headline and its repeat or byline) before the next candidate."""
  markers = []
  for n, start in enumerate(candidates):
    end = candidates[n + 1] if n + 1 < len(candidates) else len(blocks)
    if sum(len(b.split()) for b in blocks[start + 2 : end]) >= min_story_words:
      markers.append(start)
  return markers


def headline_markers(
  blocks: List[str], max_words: int, min_story_words: int, is_boilerplate=lambda block: False
) -> List[int]:
  """Indexes where a story starts with its headline printed twice in a row,
  followed by at least `min_story_words` words of story before the next
  such headline."""
  return _with_story(_doubled_headlines(blocks, max_words, is_boilerplate), blocks, min_story_words)


def byline_markers(
  blocks: List[str],
  max_words: int,
  min_story_words: int,
  is_byline,
  is_boilerplate=lambda block: False,
) -> List[int]:
  """Indexes where a story starts with a headline followed by a byline or
  date line ("By Mara Lindqvist", "Updated 4 April 2022"), followed by at
  least `min_story_words` words of story before the next such headline."""
  candidates = [
    i
    for i in range(len(blocks) - 1)
    if looks_like_headline(blocks[i], max_words)
    and not is_byline(blocks[i])
    and is_byline(blocks[i + 1])
    and not is_boilerplate(blocks[i])
  ]
  return _with_story(candidates, blocks, min_story_words)


def lead(blocks: List[str], max_chars: int = 300) -> Optional[str]:
  """The story's first paragraph, cut at a sentence end within max_chars."""
  if not blocks:
    return None
  first = blocks[0]
  if len(first) <= max_chars:
    return first
  cut = first[:max_chars]
  end = max(cut.rfind('. '), cut.rfind('! '), cut.rfind('? '))
  return cut[: end + 1] if end > 0 else cut.rsplit(' ', 1)[0] + '…'


class ArticleCleaner:
  """Applies the cleaning rules to one article record.

  Args:
    config: the `clean` section of the configuration.
  """

  def __init__(self, config: Dict[str, Any]):
    self._max_headline_words = config['max_headline_words']
    self._site_name_max_words = config['site_name_max_words']
    self._headline_search = config['headline_search_paragraphs']
    self._bylines = [
      re.compile(r'^(?:%s)$' % pattern, re.I | re.U) for pattern in config['byline_lines']
    ]
    self._max_byline_words = config['max_byline_words']
    self._min_story_words = config['min_story_words']
    self._boilerplate = [
      re.compile(r'^\W*(?:%s)\W*$' % pattern, re.I | re.U)
      for pattern in config['boilerplate_lines']
    ]
    self._disclaimers = tuple(p.casefold() for p in config['disclaimer_prefixes'])
    self._share_words = frozenset(w.casefold() for w in config['share_words'])
    self._share_min = config['share_row_min_share']
    self._share_max_words = config['share_row_max_words']

  def is_share_row(self, block: str) -> bool:
    words = [w.strip('.,:;|·•-–—/()[]').casefold() for w in block.split()]
    words = [w for w in words if w]
    if not words or len(words) > self._share_max_words:
      return False
    shared = sum(1 for w in words if w in self._share_words)
    return shared >= 2 and shared / len(words) >= self._share_min

  def boilerplate_kind(self, block: str) -> Optional[str]:
    """Why this paragraph is boilerplate, or None if it is not."""
    folded = block.strip().casefold()
    if folded.startswith(self._disclaimers):
      return 'disclaimer'
    if self.is_share_row(block):
      return 'share_bar'
    if len(block) <= 400:
      for pattern in self._boilerplate:
        if pattern.match(block.strip()):
          return 'boilerplate_line'
    return None

  def is_byline(self, block: str) -> bool:
    """A short line naming the author or the date of a story."""
    return len(block.split()) <= self._max_byline_words and any(
      p.match(block.strip()) for p in self._bylines
    )

  def split_stories(
    self, title: Optional[str], blocks: List[str]
  ) -> List[Tuple[Optional[str], List[str], List[Dict[str, Any]]]]:
    """Splits a page's paragraphs into stories: at each headline printed
    twice, and, when the page holds two or more, at each headline followed
    by a byline or date line (one such headline alone is the page's own
    story under its headline).

    Returns [(title, paragraphs, removed)]: each story with what was cut from
    it (its repeated headline or its byline; the first story also a short
    page header).
    """
    doubled = headline_markers(
      blocks, self._max_headline_words, self._min_story_words, self.boilerplate_kind
    )
    bylined = byline_markers(
      blocks, self._max_headline_words, self._min_story_words, self.is_byline, self.boilerplate_kind
    )
    markers = _with_story(sorted(set(doubled) | set(bylined)), blocks, self._min_story_words)
    if not markers or (len(markers) < 2 and not doubled):
      return [(title, blocks, [])]
    stories = []
    header, header_removed = blocks[: markers[0]], []
    if sum(len(b.split()) for b in header) > 2 * self._max_headline_words:
      stories.append((title, header, []))
    else:
      header_removed = [
        schema.removed_fragment(b, schema.BOILERPLATE, rule='page_header') for b in header
      ]
    bounds = markers + [len(blocks)]
    for start, end in zip(bounds, bounds[1:]):
      removed = [] if stories else header_removed
      second = blocks[start + 1]
      if comparable(second) == comparable(blocks[start]):
        removed.append(schema.removed_fragment(second, schema.REPEATED_TITLE))
      else:
        removed.append(schema.removed_fragment(second, schema.BOILERPLATE, rule='byline'))
      stories.append((blocks[start], blocks[start + 2 : end], removed))
    return stories

  def strip_repeated_headline(
    self, title: Optional[str], blocks: List[str], domain: Optional[str] = None
  ) -> Tuple[List[str], List[Dict[str, Any]]]:
    """Drops the title where the body repeats it at its top: the first
    paragraphs, or after a few short lines (kicker, byline, date), with or
    without the site's name around it. Lines before it are kept."""
    if not comparable(title):
      return blocks, []
    keys = headline_keys(title)
    for start, block in enumerate(blocks[: self._headline_search]):  # noqa: B007 (used after the loop)
      if self._repeats(block, keys, domain):
        break
      if len(block.split()) > self._max_headline_words:
        return blocks, []  # the story has begun
    else:
      return blocks, []
    end = start
    while end < len(blocks) and self._repeats(blocks[end], keys, domain):
      end += 1
    removed = [schema.removed_fragment(b, schema.REPEATED_TITLE) for b in blocks[start:end]]
    return blocks[:start] + blocks[end:], removed

  def _repeats(self, block: str, title_keys: Set[str], domain: Optional[str]) -> bool:
    return not title_keys.isdisjoint(
      (comparable(block), comparable(strip_site_name(block, domain, self._site_name_max_words)))
    )

  def drop_boilerplate(self, blocks: List[str]) -> Tuple[List[str], List[Dict[str, Any]]]:
    kept, removed = [], []
    for block in blocks:
      rule = self.boilerplate_kind(block)
      if rule:
        removed.append(schema.removed_fragment(block, schema.BOILERPLATE, rule=rule))
      else:
        kept.append(block)
    return kept, removed

  def clean(self, article: Dict[str, Any]) -> List[Dict[str, Any]]:
    """One extracted record -> one cleaned record per story it holds."""
    page_title = strip_site_name(
      article.get('title'), article.get('domain'), self._site_name_max_words
    )
    stories = self.split_stories(page_title, schema.paragraphs(article['body']))
    out = []
    for part, (title, story, cut) in enumerate(stories):
      removed = list(article.get('removed') or []) + cut
      story, cut = self.drop_boilerplate(story)
      removed += cut
      story, cut = self.strip_repeated_headline(title, story, article.get('domain'))
      removed += cut
      # A page's summary describes its only story; feeds often repeat the
      # whole content as summary, so only its lead is kept.
      summary = article.get('summary') if len(stories) == 1 else None
      record = dict(article)
      record.update(
        title=title,
        body=schema.join_paragraphs(story),
        removed=removed,
        part=part if len(stories) > 1 else article.get('part') or 0,
        summary=lead(schema.paragraphs(summary) or story),
      )
      out.append(record)
    return out
