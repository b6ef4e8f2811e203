"""Cleaning: split pages that hold several stories, cut repeated headlines
and boilerplate lines, and record each cut in the record's `removed` list.

The rules are data (``clean`` in configs/default.yaml); ``ArticleCleaner``
compiles them once and applies them to one record at a time, with no Beam in
sight. ``CleanArticles`` is the thin Beam wrapper.
"""

import re
import unicodedata
from typing import Any, Dict, List, Optional, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms import schema

DEAD_LETTER = 'dead_letter'
STAGE = 'clean'

_NON_WORD = re.compile(r'[\W_]+', re.U)


def comparable(text: Optional[str]) -> str:
  """Text reduced for comparison: case-folded letters and digits only."""
  if not text:
    return ''
  text = unicodedata.normalize('NFKC', text).casefold()
  return ' '.join(_NON_WORD.sub(' ', text).split())


def looks_like_headline(block: str, max_words: int) -> bool:
  """Short, one line, and not ending like a sentence of running text."""
  words = block.split()
  if not 2 <= len(words) <= max_words or '\n' in block:
    return False
  return not block.rstrip().endswith(('.', ':', ';', ','))


def headline_markers(blocks: List[str], max_words: int, min_story_words: int,
                     is_boilerplate=lambda block: False) -> List[int]:
  """Indexes where a story starts with its headline printed twice in a row
  (the same headline as two consecutive paragraphs), followed by at least
  `min_story_words` words of story before the next such headline. A doubled
  boilerplate line ("AD News", "AD News") is not a headline."""
  candidates = []
  i = 0
  while i < len(blocks) - 1:
    if (looks_like_headline(blocks[i], max_words)
        and comparable(blocks[i]) == comparable(blocks[i + 1])
        and not is_boilerplate(blocks[i])):
      candidates.append(i)
      i += 2
    else:
      i += 1
  markers = []
  for n, start in enumerate(candidates):
    end = candidates[n + 1] if n + 1 < len(candidates) else len(blocks)
    if sum(len(b.split()) for b in blocks[start + 2:end]) >= min_story_words:
      markers.append(start)
  return markers


def lead(blocks: List[str], max_chars: int = 300) -> Optional[str]:
  """The story's first paragraph, cut at a sentence end within max_chars."""
  if not blocks:
    return None
  first = blocks[0]
  if len(first) <= max_chars:
    return first
  cut = first[:max_chars]
  end = max(cut.rfind('. '), cut.rfind('! '), cut.rfind('? '))
  return cut[:end + 1] if end > 0 else cut.rsplit(' ', 1)[0] + '…'


class ArticleCleaner:
  """Applies the cleaning rules to one article record.

  Args:
    config: the `clean` section of the configuration.
  """

  def __init__(self, config: Dict[str, Any]):
    self._max_headline_words = config['max_headline_words']
    self._min_story_words = config['min_story_words']
    self._boilerplate = [re.compile(r'^\W*(?:%s)\W*$' % pattern, re.I | re.U)
                         for pattern in config['boilerplate_lines']]
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

  def split_stories(self, title: Optional[str], blocks: List[str]
                    ) -> List[Tuple[Optional[str], List[str],
                                    List[Dict[str, Any]]]]:
    """Splits a page's paragraphs into stories at each doubled headline.

    Returns [(title, paragraphs, removed)]: each story with what was cut from
    it (its doubled headline; the first story also a short page header).
    """
    markers = headline_markers(blocks, self._max_headline_words,
                               self._min_story_words, self.boilerplate_kind)
    if not markers:
      return [(title, blocks, [])]
    stories = []
    header, header_removed = blocks[:markers[0]], []
    if sum(len(b.split()) for b in header) > 2 * self._max_headline_words:
      stories.append((title, header, []))
    else:
      header_removed = [schema.removed_fragment(b, schema.BOILERPLATE,
                                                rule='page_header')
                        for b in header]
    bounds = markers + [len(blocks)]
    for start, end in zip(bounds, bounds[1:]):
      removed = [] if stories else header_removed
      removed.append(schema.removed_fragment(blocks[start + 1],
                                             schema.REPEATED_TITLE))
      stories.append((blocks[start], blocks[start + 2:end], removed))
    return stories

  def strip_repeated_headline(self, title: Optional[str], blocks: List[str]
                              ) -> Tuple[List[str], List[Dict[str, Any]]]:
    """Drops leading paragraphs that repeat the title."""
    removed = []
    key = comparable(title)
    while key and blocks and comparable(blocks[0]) == key:
      removed.append(schema.removed_fragment(blocks[0], schema.REPEATED_TITLE))
      blocks = blocks[1:]
    return blocks, removed

  def drop_boilerplate(self, blocks: List[str]
                       ) -> Tuple[List[str], List[Dict[str, Any]]]:
    kept, removed = [], []
    for block in blocks:
      rule = self.boilerplate_kind(block)
      if rule:
        removed.append(schema.removed_fragment(block, schema.BOILERPLATE,
                                               rule=rule))
      else:
        kept.append(block)
    return kept, removed

  def clean(self, article: Dict[str, Any]) -> List[Dict[str, Any]]:
    """One extracted record -> one cleaned record per story it holds."""
    stories = self.split_stories(article.get('title'),
                                 schema.paragraphs(article['body']))
    out = []
    for part, (title, story, cut) in enumerate(stories):
      removed = list(article.get('removed') or []) + cut
      story, cut = self.drop_boilerplate(story)
      removed += cut
      story, cut = self.strip_repeated_headline(title, story)
      removed += cut
      # A page's summary describes its only story; feeds often repeat the
      # whole content as summary, so only its lead is kept.
      summary = article.get('summary') if len(stories) == 1 else None
      record = dict(article)
      record.update(title=title, body=schema.join_paragraphs(story),
                    removed=removed, part=part if len(stories) > 1 else 0,
                    summary=lead(schema.paragraphs(summary) or story))
      out.append(record)
    return out


class CleanArticles(beam.PTransform):
  """Extracted records -> cleaned records (one per story), dead letters."""

  def __init__(self, clean_config: Dict[str, Any]):
    super().__init__()
    self._config = clean_config

  def expand(self, articles):
    return articles | 'Clean' >> beam.ParDo(_CleanFn(self._config)).with_outputs(
        DEAD_LETTER, main='articles')


class _CleanFn(beam.DoFn):

  def __init__(self, config):
    self._config = config
    self._stories = Metrics.counter(STAGE, 'stories')
    self._split_pages = Metrics.counter(STAGE, 'multi_story_pages')
    self._failed = Metrics.counter(STAGE, 'failed')

  def setup(self):
    self._cleaner = ArticleCleaner(self._config)

  def process(self, article):
    try:
      stories = self._cleaner.clean(article)
    except Exception as e:
      self._failed.inc()
      yield beam.pvalue.TaggedOutput(DEAD_LETTER, schema.dead_letter(
          STAGE, '%s: %s' % (type(e).__name__, e), schema.ordered(article),
          url=article.get('url'), feed_url=article.get('feed_url')))
      return
    if len(stories) > 1:
      self._split_pages.inc()
    self._stories.inc(len(stories))
    yield from stories
