"""Main text by a vote between extractors, paragraph by paragraph.

No extractor is best on every page: trafilatura keeps a related-stories
list that readability drops, readability loses a paragraph that jusText and
resiliparse keep. Combining extractors (Gottron's CombinE, 2008; Bevendorff
et al., SIGIR 2023, comparing 14 of them) beats each alone: here a paragraph
any of them returns is kept when enough of them hold it. The extractors are
trafilatura without its own fallbacks, and the readability and jusText that
trafilatura ships as those fallbacks, all three on the page trafilatura
parsed, plus resiliparse's main-content extraction (a tenth of trafilatura's
cost): four, for about the cost of trafilatura with its fallbacks. Measured
by cross-validation with folds by site: docs/design/extraction.md.
"""

import copy
import itertools
from typing import Dict, List, Optional, Set, Tuple

from transforms import schema
from transforms.text.page import comparable, html_fragment_to_text, normalize_text


def word_triples(text: str) -> Set[Tuple[str, ...]]:
  """The text's comparable word triples (its words, when under three)."""
  return _triples(comparable(text).split())


def _triples(words: List[str]) -> Set[Tuple[str, ...]]:
  if len(words) < 3:
    return {tuple(words)} if words else set()
  return set(zip(words, words[1:], words[2:]))


def _text_triples(words: List[List[str]], own: List[Set[Tuple[str, ...]]]) -> Set[Tuple[str, ...]]:
  """The triples of a text's words run together, from its paragraphs'
  words and triples: theirs, and those across each paragraph break."""
  if sum(len(w) for w in words) < 3:
    return _triples([w for paragraph in words for w in paragraph])
  found: Set[Tuple[str, ...]] = set()
  tail: List[str] = []  # the last two words before this paragraph
  for paragraph_words, triples in zip(words, own):
    if len(paragraph_words) >= 3:
      found |= triples
    if tail:
      joined = tail + paragraph_words[:2]
      found.update(zip(joined, joined[1:], joined[2:]))
    tail = (tail + paragraph_words)[-2:]
  return found


def voted_paragraphs(
  texts: List[str], min_votes: float, min_share: float, weights: Optional[List[float]] = None
) -> List[str]:
  """The paragraphs of `texts` (one per extractor, the first leading the
  order) that extractors of at least `min_votes` votes hold (each text one
  vote, or its `weights`): a text holds a paragraph when it has `min_share`
  of the paragraph's word triples. A paragraph an earlier text already holds
  (by the same measure) is not counted twice; paragraphs of one text alike
  each other (a list of reports differing by a number) are all its own. A
  paragraph a later text adds goes where that text has it: after the kept
  paragraph its predecessor there matches, or before the one its successor
  matches.

  Each paragraph is reduced to comparable words once (extractors mostly
  return the same paragraphs: once for all of them); a text's triples are
  those of its paragraphs' words run together (its words in order)."""
  weights = weights or [1] * len(texts)
  split = [schema.paragraphs(text) for text in texts]
  reduced: Dict[str, Tuple[List[str], Set[Tuple[str, ...]]]] = {}
  for paragraph in itertools.chain.from_iterable(split):
    if paragraph not in reduced:
      paragraph_words = comparable(paragraph).split()
      reduced[paragraph] = (paragraph_words, _triples(paragraph_words))
  words = [[reduced[p][0] for p in text] for text in split]
  own = [[reduced[p][1] for p in text] for text in split]
  triples = [_text_triples(w, t) for w, t in zip(words, own)]
  kept = _Kept()
  given: Set[Tuple[str, ...]] = set()
  for n in range(len(texts)):
    # Where this text's next new paragraph goes in `kept`; None until one of
    # its paragraphs matches a kept one (new ones wait in `waiting`).
    at: Optional[int] = None if n else 0
    waiting: List[Tuple[str, Set[Tuple[str, ...]]]] = []
    for paragraph, mine in zip(split[n], own[n]):
      if not mine:
        continue
      need = min_share * len(mine)
      if n and len(mine & given) >= need:
        match = kept.best_match(mine, need / 2)
        if match is not None:
          if at is None:
            kept.insert(match, waiting)
            match += len(waiting)
            waiting = []
          at = match + 1
        continue
      votes = sum(w for w, theirs in zip(weights, triples) if len(mine & theirs) >= need)
      if votes < min_votes:
        continue
      if at is None:
        waiting.append((paragraph, mine))
      else:
        kept.insert(at, [(paragraph, mine)])
        at += 1
    kept.insert(len(kept), waiting)
    given |= triples[n]
  return kept.paragraphs()


class _Kept:
  """The kept paragraphs in order, each with its word triples, and which
  paragraphs hold each triple: a paragraph's best match is counted from
  its own triples, not by comparing it with every kept paragraph."""

  def __init__(self):
    self._entries: List[Tuple[str, Set[Tuple[str, ...]]]] = []
    self._holders: Dict[Tuple[str, ...], List[int]] = {}  # triple -> entry numbers
    self._order: List[int] = []  # entry numbers, in the kept order
    self._position: Optional[Dict[int, int]] = None  # entry number -> index

  def __len__(self) -> int:
    return len(self._order)

  def insert(self, index: int, entries: List[Tuple[str, Set[Tuple[str, ...]]]]) -> None:
    """`entries` inserted before the `index`-th kept paragraph, in order."""
    if not entries:
      return
    numbers = []
    for entry in entries:
      number = len(self._entries)
      self._entries.append(entry)
      for triple in entry[1]:
        self._holders.setdefault(triple, []).append(number)
      numbers.append(number)
    self._order[index:index] = numbers
    self._position = None

  def best_match(self, mine: Set[Tuple[str, ...]], least: float) -> Optional[int]:
    """The index of the kept paragraph sharing most word triples with
    `mine`, at least `least` of them (a paragraph another extractor splits
    in two matches either half); of those sharing as many, the first; or
    None."""
    shared: Dict[int, int] = {}
    for triple in mine:
      for number in self._holders.get(triple, ()):
        shared[number] = shared.get(number, 0) + 1
    if not shared:
      return None
    if self._position is None:
      self._position = {number: index for index, number in enumerate(self._order)}
    position = self._position
    best, best_shared = None, 0
    for number, count in shared.items():
      if count < least or count < best_shared:
        continue
      index = position[number]
      if count > best_shared or index < best:
        best, best_shared = index, count
    return best

  def paragraphs(self) -> List[str]:
    return [self._entries[number][0] for number in self._order]


def resiliparse_text(page_html: str) -> str:
  """resiliparse's main-content text of a page ('' if it finds none)."""
  from resiliparse.extract.html2text import extract_plain_text
  from resiliparse.parse.html import HTMLTree

  return normalize_text(
    extract_plain_text(
      HTMLTree.parse(page_html),
      main_content=True,
      alt_texts=False,
      links=False,
      form_fields=False,
      noscript=False,
      list_bullets=False,
    )
  )


def readability_text(tree) -> str:
  """readability's article text (trafilatura's copy of readability-lxml),
  on a copy of the parsed page."""
  import lxml.html
  from trafilatura.external import try_readability

  try:
    article = try_readability(copy.deepcopy(tree))
  except Exception:  # readability gives up on some pages: no vote
    return ''
  return html_fragment_to_text(lxml.html.tostring(article, encoding='unicode'))


def justext_text(tree, url: Optional[str]) -> str:
  """jusText's non-boilerplate paragraphs (as trafilatura runs it, with the
  stop words of every language it knows), on a copy of the parsed page."""
  from trafilatura.baseline import basic_cleaning
  from trafilatura.external import try_justext

  body = try_justext(basic_cleaning(copy.deepcopy(tree)), url, None)
  return schema.join_paragraphs(
    normalize_text(p.text) for p in body.iter('p') if p.text and p.text.strip()
  )
