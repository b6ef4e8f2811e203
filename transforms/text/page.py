"""The text and metadata of one HTML page, and text normalization.

Plain functions with no Beam in them: the extraction stage
(``transforms.extract``) runs ``extract_page`` in its time-budget process,
which imports this module and what it needs (trafilatura, htmldate, lxml)
and not Apache Beam (a second or more of start-up per worker).

A page is parsed once: metadata, main text (trafilatura, the strongest open
main-text extractor), the stories of a page holding several in <article>
elements and the page's printed lead all read the same tree, in one call.
Every text leaves here normalized the same way: Unicode NFC, no markup or
entities, no control characters, single spaces, and paragraphs separated by
one blank line.
"""

import datetime
import functools
import html as html_lib
import re
import unicodedata
from typing import Any, Dict, List, NamedTuple, Optional, Tuple, Union

from transforms import schema
from transforms.io.timestamps import publication_time
from transforms.text.authors import page_author

_TAG = re.compile(r'</?[a-zA-Z][a-zA-Z0-9:-]*(\s[^<>]*)?/?>')
# '<' starting a tag, a closing tag, a comment or a declaration, for a browser.
_TAG_START = re.compile(r'<(?=[a-zA-Z/!?])')
# [^<>]* stops at the next '<', so that scanning stays linear in the text.
_SCRIPT_STYLE_OPEN = re.compile(r'<(script|style)\b[^<>]*>', re.I)
_SCRIPT_STYLE_CLOSE = {name: re.compile(r'</%s\s*>' % name, re.I) for name in ('script', 'style')}
_CONTROL = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200c\u200d\u2060\ufeff]')
_SPACES = re.compile(r'[^\S\n]+')
_BLANK_LINES = re.compile(r'\n\s*\n')


def _drop_comments(text: str) -> str:
  # str.find, not a lazy regex: '<!--' repeated without '-->' made
  # `<!--.*?-->` quadratic (80 KB took 16 s).
  out, pos = [], 0
  while True:
    start = text.find('<!--', pos)
    end = text.find('-->', start + 4) if start >= 0 else -1
    if end < 0:
      break
    out += [text[pos:start], ' ']
    pos = end + 3
  out.append(text[pos:])
  return ''.join(out)


def _drop_scripts_and_styles(text: str) -> str:
  # Each closing tag is searched for once per kind: an opening tag without
  # one (left for the tag pass) must not make the scan quadratic.
  out, pos, unclosed = [], 0, set()
  while True:
    opening = _SCRIPT_STYLE_OPEN.search(text, pos)
    if not opening:
      break
    name = opening.group(1).lower()
    closing = None if name in unclosed else _SCRIPT_STYLE_CLOSE[name].search(text, opening.end())
    if closing is None:
      unclosed.add(name)
      out.append(text[pos : opening.end()])
    else:
      out += [text[pos : opening.start()], ' ']
    pos = closing.end() if closing else opening.end()
  out.append(text[pos:])
  return ''.join(out)


def _strip_markup(text: str) -> str:
  text = _drop_comments(text)
  text = _drop_scripts_and_styles(text)
  return _TAG.sub(' ', text)


def normalize_text(text: Optional[str]) -> str:
  """Plain text with paragraphs separated by one blank line.

  Entities are decoded and stray markup removed. If the text holds blank
  lines, they separate paragraphs (and single newlines inside a paragraph are
  line wrapping); otherwise each line is a paragraph.
  """
  if not text:
    return ''
  text = text.replace('\r\n', '\n').replace('\r', '\n')
  # Twice: markup escaped once (&lt;script&gt;) is markup after unescaping.
  for _ in range(2):
    if '<' in text:
      text = _strip_markup(text)
    if '&' not in text:
      break
    text = html_lib.unescape(text)
  text = unicodedata.normalize('NFC', text)
  text = _CONTROL.sub('', text).replace('\u00a0', ' ').replace('\t', ' ')
  # Last, after removing characters ('<\u200bscript>' is '<script>' once the
  # zero-width space is gone). What is left is not a whole tag ('<script'
  # without its '>'); a space after '<' makes sure no browser can read it as
  # the start of one.
  if '<' in text:
    text = _TAG_START.sub('< ', _strip_markup(text))
  if _BLANK_LINES.search(text):
    blocks = [' '.join(b.split()) for b in _BLANK_LINES.split(text)]
  else:
    blocks = [' '.join(line.split()) for line in text.split('\n')]
  return schema.join_paragraphs(b for b in blocks if b)


_BLOCK_TAGS = frozenset(
  (
    'p',
    'div',
    'br',
    'li',
    'ul',
    'ol',
    'h1',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'blockquote',
    'pre',
    'table',
    'tr',
    'section',
    'article',
    'header',
    'footer',
    'figure',
    'figcaption',
    'hr',
    'dd',
    'dt',
    'aside',
    'nav',
  )
)


def html_fragment_to_text(fragment: str) -> str:
  """A feed entry's HTML content -> normalized text (no extraction)."""
  if not fragment or not fragment.strip():
    return ''
  import lxml.html

  try:
    root = lxml.html.fragment_fromstring(fragment, create_parent='div')
  except Exception:  # not parseable as HTML: treat as text with stray tags
    return normalize_text(fragment)
  for bad in root.xpath('.//script|.//style|.//noscript|.//template'):
    bad.drop_tree()
  pieces: List[str] = []

  def walk(node):
    tag = node.tag if isinstance(node.tag, str) else ''
    if tag in _BLOCK_TAGS:
      pieces.append('\n\n')
    if node.text and tag:
      pieces.append(node.text)
    for child in node:
      walk(child)
    if tag in _BLOCK_TAGS:
      pieces.append('\n\n')
    if node.tail:
      pieces.append(node.tail)

  walk(root)
  return normalize_text(''.join(pieces))


# A run of letters and digits (\w but the underscore).
_WORD = re.compile(r'[^\W_]+')


# ASCII letters and digits as they are, every other ASCII character a space.
_ASCII_WORD_CHARACTERS = str.maketrans({i: chr(i) if chr(i).isalnum() else ' ' for i in range(128)})


def comparable(text: Optional[str]) -> str:
  """Text reduced for comparison: case-folded letters and digits only."""
  if not text:
    return ''
  if text.isascii():  # NFKC leaves it as it is; the same words, found faster
    return ' '.join(text.lower().translate(_ASCII_WORD_CHARACTERS).split())
  text = unicodedata.normalize('NFKC', text).casefold()
  return ' '.join(_WORD.findall(text))


def split_authors(value: Any) -> List[str]:
  if not value:
    return []
  if isinstance(value, list):
    return [a for a in (normalize_text(str(v)) for v in value) if a]
  return [a.strip() for a in re.split(r';|\s+and\s+', str(value)) if a.strip()]


_NO_METADATA = {
  'title': None,
  'authors': [],
  'date': None,
  'description': None,
  'canonical_url': None,
}


def latest_publication_day(fetched_at: Optional[str]) -> Optional[str]:
  """The latest date a page fetched at `fetched_at` (ISO, UTC) can carry as
  its publication date: the next day (a page's local date may be ahead of
  UTC); None when the fetch time is unknown."""
  if not fetched_at:
    return None
  try:
    fetched = datetime.datetime.strptime(fetched_at[:10], '%Y-%m-%d')
  except ValueError:
    return None
  return (fetched + datetime.timedelta(days=1)).strftime('%Y-%m-%d')


# htmldate keeps the time of day and zone its source gives (meta
# article:published_time, JSON-LD datePublished, <time datetime>, ...) when
# asked for them; it gives midnight without a zone for a bare day.
_DATE_WITH_TIME = '%Y-%m-%dT%H:%M:%S%z'


def _end_of_day(day: str) -> datetime.datetime:
  return datetime.datetime.strptime(day[:10], '%Y-%m-%d') + datetime.timedelta(
    hours=23, minutes=59, seconds=59
  )


def page_publication_time(found: Optional[str]) -> Optional[str]:
  """htmldate's date (`_DATE_WITH_TIME`) as records hold it: the time in
  UTC, or the bare day when the page gave only a day (htmldate's midnight
  without a zone). A time without a zone is taken as UTC."""
  if not found:
    return None
  try:
    parsed = datetime.datetime.strptime(found, _DATE_WITH_TIME)
  except ValueError:
    try:
      parsed = datetime.datetime.strptime(found[:19], '%Y-%m-%dT%H:%M:%S')
    except ValueError:
      return None
  if parsed.tzinfo is None and parsed.time() == datetime.time(0):
    return publication_time(parsed.strftime('%Y-%m-%d'))
  return publication_time(parsed)


def page_metadata(tree, url: Optional[str], latest_date: Optional[str] = None) -> Dict[str, Any]:
  """Title, authors, date, description and canonical URL of a parsed page.

  trafilatura's own metadata steps, in its order, without those newsbeam has
  no use for (categories, tags, licence, site name: a fifth of the cost).
  Dates after `latest_date` (YYYY-MM-DD) are not publication dates; without
  it trafilatura's bound is the day of the run, which would make the same
  page's date depend on when it is processed.
  """
  from htmldate import find_date
  from trafilatura.metadata import examine_meta, extract_meta_json, extract_title, extract_url
  from trafilatura.settings import set_date_params

  meta = examine_meta(tree)
  if meta.author and ' ' not in meta.author:  # a handle, not a name
    meta.author = None
  try:
    meta = extract_meta_json(tree, meta)
  except Exception:  # malformed JSON-LD: the meta tags are enough
    pass
  meta.title = meta.title or extract_title(tree)
  meta.author = meta.author or page_author(tree)
  meta.url = meta.url or extract_url(tree, url)
  # htmldate's extensive search: its fast search alone (0.8 ms a page less)
  # finds no date on 8% of news pages and, measured, a wrong one on a page
  # whose date it cannot read (a related story's date instead).
  date_params = dict(set_date_params(True), url=meta.url, outputformat=_DATE_WITH_TIME)
  # The end of the latest day: htmldate compares times with its bound, and
  # the bound of a day alone would turn away every time of that day.
  date_params['max_date'] = _end_of_day(latest_date or date_params['max_date'])
  meta.date = find_date(tree, **date_params)
  meta.clean_and_trim()
  return {
    'title': normalize_text(meta.title) or None,
    'authors': split_authors(meta.author),
    'date': page_publication_time(meta.date),
    'description': normalize_text(meta.description) or None,
    'canonical_url': (meta.url if meta.url and meta.url.startswith('http') else None),
  }


class Vote(NamedTuple):
  """A vote between extractors on a page's main text: trafilatura (with its
  fallback extractors or without) leads, then `others` (of 'readability',
  'justext', 'resiliparse'); a paragraph is kept when extractors of
  `min_votes` votes hold it, trafilatura having `lead_weight` votes and each
  other one."""

  fallbacks: bool
  others: Tuple[str, ...]
  min_votes: float
  lead_weight: float = 1


# extract.mode -> its vote (None: trafilatura without its fallbacks, alone).
# `balanced` adds the two cheap extractors, readability on the parsed page
# and resiliparse (a fifth and a tenth of trafilatura's cost): two of the
# three must hold a paragraph. `best` is quality first: jusText too (as
# costly as trafilatura) and trafilatura with its fallbacks, three of four.
MODES: Dict[str, Optional[Vote]] = {
  'fast': None,
  'balanced': Vote(False, ('readability', 'resiliparse'), 2),
  'best': Vote(True, ('readability', 'justext', 'resiliparse'), 3),
}


def main_text(
  tree,
  url: Optional[str],
  favor: str,
  min_chars: int,
  mode: Union[str, Vote] = 'balanced',
  page_html: Optional[str] = None,
  min_share: float = 0.5,
) -> str:
  """The main text of a parsed page (the extractors work on copies); pages
  under `min_chars` characters are tried again favouring recall. `mode`: a
  name in MODES or a Vote (``transforms.text.vote``: an extractor holds a
  paragraph with `min_share` of its word triples; resiliparse reads
  `page_html`)."""
  vote_spec = MODES[mode] if isinstance(mode, str) else mode
  fallbacks = vote_spec.fallbacks if vote_spec else False
  text = trafilatura_text(tree, url, favor, min_chars, fallbacks=fallbacks)
  if vote_spec is None:
    return text
  from transforms.text import vote

  texts = [text]
  for name in vote_spec.others:
    if name == 'readability':
      texts.append(vote.readability_text(tree))
    elif name == 'justext':
      texts.append(vote.justext_text(tree, url))
    else:
      texts.append(vote.resiliparse_text(page_html) if page_html else '')
  weights = [vote_spec.lead_weight] + [1] * len(vote_spec.others)
  return schema.join_paragraphs(
    vote.voted_paragraphs(texts, vote_spec.min_votes, min_share, weights)
  )


def trafilatura_text(
  tree, url: Optional[str], favor: str, min_chars: int, fallbacks: bool = True
) -> str:
  """trafilatura's main text of a parsed page (on a copy), with or without
  its fallback extractors; under `min_chars` characters, tried again
  favouring recall."""
  from trafilatura import bare_extraction

  def run(favor_precision, favor_recall):
    doc = bare_extraction(
      tree,
      url=url,
      with_metadata=False,
      include_comments=False,
      include_tables=True,
      include_images=False,
      deduplicate=False,
      favor_precision=favor_precision,
      favor_recall=favor_recall,
      fast=not fallbacks,
    )
    return normalize_text(doc.text) if doc is not None and doc.text else ''

  text = run(favor == 'precision', favor == 'recall')
  if len(text) < min_chars and favor != 'recall':
    text = max(text, run(False, True), key=len)
  return text


# Where a page's own lead is not: links, menus, forms, footers.
_NOT_LEAD = frozenset(
  (
    'a',
    'nav',
    'footer',
    'form',
    'button',
    'noscript',
    'template',
    'script',
    'style',
    'select',
    'label',
  )
)
# A paragraph ending so is running text, not a headline, kicker or byline.
_SENTENCE_END = ('.', '!', '?', '…', '"', '”', '»', ')')
_ELLIPSIS = re.compile(r'\s*(\.\.\.|\u2026|\[\.\.\.\]|\[\u2026\])$')


def printed_lead(tree, description: Optional[str], text: str, min_words: int) -> Optional[str]:
  """The page's lead (standfirst) when the main text lacks it: the page's
  own description (meta or JSON-LD) printed as an element of the page body,
  whole, or its start when the description is cut with an ellipsis. News
  pages often print the lead apart from the story's container, where main
  text extraction misses it; the description marks which paragraph it is."""
  if not description or len(description.split()) < min_words:
    return None
  cut = _ELLIPSIS.search(description)
  wanted = comparable(description[: cut.start()] if cut else description)
  if not wanted or _mostly_in(wanted, comparable(text)):
    return None
  start = ' '.join(description.split()[:3])
  for node in tree.xpath('//body//text()[contains(normalize-space(.), $s)]', s=start):
    element = node.getparent()
    while element is not None:
      if element.tag in _NOT_LEAD or not isinstance(element.tag, str):
        break
      shown = _shown_text(element)
      found = comparable(shown)
      if len(found) >= len(wanted):
        # Cut short, the description still holds most of the lead: a longer
        # element is the story's container, not its lead.
        if found == wanted or (cut and found.startswith(wanted) and len(found) <= 2 * len(wanted)):
          if not any(a.tag in _NOT_LEAD for a in element.iterancestors()):
            return shown
        break
      element = element.getparent()
  return None


def _shown_text(element) -> str:
  """An element's text as the page shows it: no script or style code."""
  return ' '.join(
    ' '.join(
      element.xpath(
        './/text()[not(ancestor::script or ancestor::style or '
        'ancestor::noscript or ancestor::template)]'
      )
    ).split()
  )


def _mostly_in(words: str, text: str) -> bool:
  """Whether 4 in 5 word triples of `words` are in `text` (both comparable):
  the text already holds it, perhaps split or joined otherwise."""

  def triples(t):
    w = t.split()
    return {tuple(w[i : i + 3]) for i in range(max(len(w) - 2, 1))}

  mine = triples(words)
  return len(mine & triples(text)) >= 0.8 * len(mine)


def with_lead(text: str, lead: Optional[str]) -> str:
  """The text with its lead before its first paragraph of running text
  (after a headline, kicker or byline line printed above it)."""
  if not lead:
    return text
  blocks = schema.paragraphs(text)
  at = next((n for n, b in enumerate(blocks) if b.endswith(_SENTENCE_END)), len(blocks))
  return schema.join_paragraphs(blocks[:at] + [normalize_text(lead)] + blocks[at:])


def parse_page(page_html: str):
  """The page's lxml tree as trafilatura parses it, or None."""
  from trafilatura.utils import load_html

  _element_classes_in_c()
  try:
    return load_html(page_html)
  except Exception:  # not HTML at all: no text
    return None


@functools.cache
def _element_classes_in_c() -> None:
  """Gives the elements trafilatura's HTML parser makes lxml.html's classes
  (a form's, an input's, ... and HtmlElement for the rest) by a lookup lxml
  does in C, instead of lxml.html's, a Python method called each time an
  element is touched (about 4% of extraction's CPU). The same classes, so
  the same trees to every extractor. Left as it is where trafilatura has
  no such parser."""
  from lxml import etree
  from lxml import html as lxml_html
  from trafilatura import utils

  parser = getattr(utils, 'HTML_PARSER', None)
  classes = getattr(lxml_html.HtmlElementClassLookup(), '_element_classes', None)
  if not isinstance(parser, lxml_html.HTMLParser) or not isinstance(classes, dict):
    return
  lookup = etree.ElementNamespaceClassLookup(
    etree.ElementDefaultClassLookup(
      element=lxml_html.HtmlElement,
      comment=lxml_html.HtmlComment,
      pi=lxml_html.HtmlProcessingInstruction,
      entity=lxml_html.HtmlEntity,
    )
  )
  tags = lookup.get_namespace(None)
  for tag, element_class in classes.items():
    tags[tag] = element_class
  parser.set_element_class_lookup(lookup)


# A small page extraction warms up on (trafilatura's and htmldate's lazy
# first-call set-up): the worker pool's fork server once, and each new child.
WARM_UP_PAGE = (
  '<html><head><title>Warm up</title>'
  '<meta property="article:published_time" content="2024-01-02"></head>'
  '<body><article><h1>Warm up</h1><p>Published 2 January 2024.</p>'
  '<p>A paragraph of text to extract.</p></article></body></html>'
)


def extract_page(
  page_html: str,
  url: Optional[str],
  favor: str = 'balanced',
  min_chars: int = 200,
  story_min_words: int = 0,
  story_min_paragraphs: int = 0,
  lead_min_words: int = 0,
  latest_date: Optional[str] = None,
  mode: Union[str, 'Vote'] = 'balanced',
  vote_min_share: float = 0.5,
) -> Dict[str, Any]:
  """Main text and metadata of a whole HTML page, parsed once.

  Returns {text, title, authors, date, description, canonical_url, stories};
  text is '' when no main text was found. `stories` is [(headline, text)]
  for a page of several stories (see ``story_elements``; story_min_words 0:
  not looked for), else []. A lead of at least `lead_min_words` words that
  the main text lacks is put back (see ``printed_lead``; 0: not looked for).
  `latest_date`: see ``page_metadata``; `mode`, `vote_min_share`: see
  ``main_text``.
  """
  tree = parse_page(page_html)
  if tree is None:
    return dict(_NO_METADATA, text='', stories=[])
  try:
    meta = page_metadata(tree, url, latest_date)
  except (TypeError, ValueError):  # what trafilatura gives up on: no metadata
    meta = dict(_NO_METADATA)
  stories = []
  if story_min_words:
    for headline, element in story_elements(tree, story_min_words, story_min_paragraphs):
      text = trafilatura_text(_story_page(element), url, favor, min_chars)
      if text:
        stories.append((headline, text))
  text = main_text(tree, url, favor, min_chars, mode, page_html, vote_min_share)
  if text and lead_min_words:
    text = with_lead(text, printed_lead(tree, meta['description'], text, lead_min_words))
  return dict(meta, text=text, stories=stories if len(stories) >= 2 else [])


def _story_page(element):
  """A page of its own holding a copy of one story's element."""
  import copy

  import lxml.html

  page = lxml.html.Element('html')
  body = lxml.html.Element('body')
  body.append(copy.deepcopy(element))
  page.append(body)
  return page


def truncate_html(page_html: str, max_bytes: int) -> Optional[str]:
  """The page cut to its first `max_bytes` bytes of UTF-8 (at a character
  boundary), or None when it is within the limit. lxml parses a cut page as
  it parses any unclosed markup."""
  if len(page_html) <= max_bytes // 4:  # 4 bytes per character at most
    return None
  data = page_html.encode('utf-8', 'surrogatepass')
  if len(data) <= max_bytes:
    return None
  return data[:max_bytes].decode('utf-8', 'ignore')


def story_elements(tree, min_words: int, min_paragraphs: int) -> List[Tuple[str, Any]]:
  """[(headline, element)] of the page's outermost <article> elements when
  two or more of them hold a story: a headline (h1-h3; comments, also
  <article> elements, have none) and at least `min_paragraphs` paragraphs
  and `min_words` words (teasers of related stories hold one); [] for a
  page of one story."""
  stories = []
  for element in tree.iter('article'):
    if any(a.tag == 'article' for a in element.iterancestors()):
      continue
    heading = next(element.iter('h1', 'h2', 'h3'), None)
    headline = normalize_text(heading.text_content()) if heading is not None else ''
    paragraphs = [p.text_content() for p in element.iter('p')]
    paragraphs = [p for p in paragraphs if p.strip()]
    if (
      headline
      and len(paragraphs) >= min_paragraphs
      and sum(len(p.split()) for p in paragraphs) >= min_words
    ):
      stories.append((headline, element))
  return stories if len(stories) >= 2 else []
