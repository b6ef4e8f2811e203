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
from typing import List, Optional, Set, Tuple

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

  Each paragraph is reduced to comparable words once; a text's triples are
  those of its paragraphs' words run together (its words in order)."""
  weights = weights or [1] * len(texts)
  split = [schema.paragraphs(text) for text in texts]
  words = [[comparable(p).split() for p in text] for text in split]
  own = [[_triples(w) for w in text] for text in words]
  triples = [_text_triples(w, t) for w, t in zip(words, own)]
  kept: List[Tuple[str, Set[Tuple[str, ...]]]] = []
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
        match = _best_match(mine, kept, need / 2)
        if match is not None:
          if at is None:
            kept[match:match] = waiting
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
        kept.insert(at, (paragraph, mine))
        at += 1
    kept += waiting
    given |= triples[n]
  return [paragraph for paragraph, _ in kept]


def _best_match(
  mine: Set[Tuple[str, ...]], kept: List[Tuple[str, Set[Tuple[str, ...]]]], least: float
) -> Optional[int]:
  """The index of the kept paragraph sharing most word triples with
  `mine`, at least `least` of them (a paragraph another extractor splits in
  two matches either half), or None."""
  best, best_shared = None, 0
  for index, (_, theirs) in enumerate(kept):
    shared = len(mine & theirs)
    if shared >= least and shared > best_shared:
      best, best_shared = index, shared
  return best


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
