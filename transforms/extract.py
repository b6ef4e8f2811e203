"""Extraction: main text and metadata from HTML, and text normalization.

Whole pages go through trafilatura (the strongest open main-text extractor),
each page parsed once: metadata, main text, the stories of a page holding
several in <article> elements (one record per story) and the page's printed
lead all read the same tree, in one call (one round trip to the time-budget
process). Feed entries' HTML content is already the article, so it is only
converted to text. Every body leaves this stage normalized the same way: Unicode NFC, no
markup or entities, no control characters, single spaces, and paragraphs
separated by one blank line.
"""

import datetime
import html as html_lib
import re
import unicodedata
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms import schema
from transforms.author_search import page_author
from transforms.budget import BudgetExceeded, TimeBudget
from transforms.clean import comparable
from transforms.report import ProgressLog

DEAD_LETTER = 'dead_letter'
REJECTED = 'rejected'
STAGE = 'extract'

_TAG = re.compile(r'</?[a-zA-Z][a-zA-Z0-9:-]*(\s[^<>]*)?/?>')
# '<' starting a tag, a closing tag, a comment or a declaration, for a browser.
_TAG_START = re.compile(r'<(?=[a-zA-Z/!?])')
# [^<>]* stops at the next '<', so that scanning stays linear in the text.
_SCRIPT_STYLE_OPEN = re.compile(r'<(script|style)\b[^<>]*>', re.I)
_SCRIPT_STYLE_CLOSE = {name: re.compile(r'</%s\s*>' % name, re.I)
                       for name in ('script', 'style')}
_CONTROL = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200c\u200d\u2060\ufeff]')
_SPACES = re.compile(r'[^\S\n]+')
_BLANK_LINES = re.compile(r'\n\s*\n')

TRACKING_PARAMS = re.compile(
    r'^(utm_[a-z_]*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|'
    r'yclid|igshid|_ga|_gl|ref_src|cmpid|ocid|smid|mkt_tok)$', re.I)


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
    closing = None if name in unclosed else _SCRIPT_STYLE_CLOSE[name].search(
        text, opening.end())
    if closing is None:
      unclosed.add(name)
      out.append(text[pos:opening.end()])
    else:
      out += [text[pos:opening.start()], ' ']
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


_BLOCK_TAGS = frozenset((
    'p', 'div', 'br', 'li', 'ul', 'ol', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6',
    'blockquote', 'pre', 'table', 'tr', 'section', 'article', 'header',
    'footer', 'figure', 'figcaption', 'hr', 'dd', 'dt', 'aside', 'nav'))


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


def canonicalize_url(url: Optional[str]) -> Optional[str]:
  """Scheme and host lower-cased, default port, fragment and tracking
  parameters dropped, remaining query parameters sorted."""
  if not url:
    return url
  try:
    parts = urlsplit(url.strip())
    scheme = (parts.scheme or 'http').lower()
    host = (parts.hostname or '').lower().rstrip('.')
    port = parts.port
  except ValueError:
    return url.strip()
  netloc = host
  if port and not ((scheme == 'http' and port == 80) or
                   (scheme == 'https' and port == 443)):
    netloc = '%s:%d' % (host, port)
  query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                 if not TRACKING_PARAMS.match(k))
  path = parts.path or '/'
  return urlunsplit((scheme, netloc, path, urlencode(query), ''))


def domain_of(url: Optional[str]) -> Optional[str]:
  try:
    host = (urlsplit(url or '').hostname or '').lower()
  except ValueError:
    return None
  return host[4:] if host.startswith('www.') else (host or None)


def split_authors(value: Any) -> List[str]:
  if not value:
    return []
  if isinstance(value, list):
    return [a for a in (normalize_text(str(v)) for v in value) if a]
  return [a.strip() for a in re.split(r';|\s+and\s+', str(value)) if a.strip()]


_NO_METADATA = {'title': None, 'authors': [], 'date': None,
                'description': None, 'canonical_url': None}


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


def page_metadata(tree, url: Optional[str],
                  latest_date: Optional[str] = None) -> Dict[str, Any]:
  """Title, authors, date, description and canonical URL of a parsed page.

  trafilatura's own metadata steps, in its order, without those newsbeam has
  no use for (categories, tags, licence, site name: a fifth of the cost).
  Dates after `latest_date` (YYYY-MM-DD) are not publication dates; without
  it trafilatura's bound is the day of the run, which would make the same
  page's date depend on when it is processed.
  """
  from htmldate import find_date
  from trafilatura.metadata import (examine_meta, extract_meta_json,
                                    extract_title, extract_url)
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
  date_params = dict(set_date_params(True), url=meta.url)
  if latest_date:
    date_params['max_date'] = latest_date
  meta.date = find_date(tree, **date_params)
  meta.clean_and_trim()
  return {
      'title': normalize_text(meta.title) or None,
      'authors': split_authors(meta.author),
      'date': meta.date,
      'description': normalize_text(meta.description) or None,
      'canonical_url': (meta.url if meta.url and meta.url.startswith('http')
                        else None),
  }


def main_text(tree, url: Optional[str], favor: str, min_chars: int) -> str:
  """The main text of a parsed page (trafilatura works on a copy); pages
  under `min_chars` characters are tried again favouring recall."""
  from trafilatura import bare_extraction

  def run(favor_precision, favor_recall):
    doc = bare_extraction(
        tree, url=url, with_metadata=False, include_comments=False,
        include_tables=True, include_images=False, deduplicate=False,
        favor_precision=favor_precision, favor_recall=favor_recall)
    return normalize_text(doc.text) if doc is not None and doc.text else ''

  text = run(favor == 'precision', favor == 'recall')
  if len(text) < min_chars and favor != 'recall':
    text = max(text, run(False, True), key=len)
  return text


# Where a page's own lead is not: links, menus, forms, footers.
_NOT_LEAD = frozenset(('a', 'nav', 'footer', 'form', 'button', 'noscript',
                       'template', 'script', 'style', 'select', 'label'))
# A paragraph ending so is running text, not a headline, kicker or byline.
_SENTENCE_END = ('.', '!', '?', '…', '"', '”', '»', ')')
_ELLIPSIS = re.compile(r'\s*(\.\.\.|\u2026|\[\.\.\.\]|\[\u2026\])$')


def printed_lead(tree, description: Optional[str], text: str,
                 min_words: int) -> Optional[str]:
  """The page's lead (standfirst) when the main text lacks it: the page's
  own description (meta or JSON-LD) printed as an element of the page body,
  whole, or its start when the description is cut with an ellipsis. News
  pages often print the lead apart from the story's container, where main
  text extraction misses it; the description marks which paragraph it is."""
  if not description or len(description.split()) < min_words:
    return None
  cut = _ELLIPSIS.search(description)
  wanted = comparable(description[:cut.start()] if cut else description)
  if not wanted or _mostly_in(wanted, comparable(text)):
    return None
  start = ' '.join(description.split()[:3])
  for node in tree.xpath('//body//text()[contains(normalize-space(.), $s)]',
                         s=start):
    element = node.getparent()
    while element is not None:
      if element.tag in _NOT_LEAD or not isinstance(element.tag, str):
        break
      shown = _shown_text(element)
      found = comparable(shown)
      if len(found) >= len(wanted):
        # Cut short, the description still holds most of the lead: a longer
        # element is the story's container, not its lead.
        if found == wanted or (cut and found.startswith(wanted)
                               and len(found) <= 2 * len(wanted)):
          if not any(a.tag in _NOT_LEAD for a in element.iterancestors()):
            return shown
        break
      element = element.getparent()
  return None


def _shown_text(element) -> str:
  """An element's text as the page shows it: no script or style code."""
  return ' '.join(' '.join(element.xpath(
      './/text()[not(ancestor::script or ancestor::style or '
      'ancestor::noscript or ancestor::template)]')).split())


def _mostly_in(words: str, text: str) -> bool:
  """Whether 4 in 5 word triples of `words` are in `text` (both comparable):
  the text already holds it, perhaps split or joined otherwise."""
  def triples(t):
    w = t.split()
    return {tuple(w[i:i + 3]) for i in range(max(len(w) - 2, 1))}
  mine = triples(words)
  return len(mine & triples(text)) >= 0.8 * len(mine)


def with_lead(text: str, lead: Optional[str]) -> str:
  """The text with its lead before its first paragraph of running text
  (after a headline, kicker or byline line printed above it)."""
  if not lead:
    return text
  blocks = schema.paragraphs(text)
  at = next((n for n, b in enumerate(blocks) if b.endswith(_SENTENCE_END)),
            len(blocks))
  return schema.join_paragraphs(
      blocks[:at] + [normalize_text(lead)] + blocks[at:])


def parse_page(page_html: str):
  """The page's lxml tree as trafilatura parses it, or None."""
  from trafilatura.utils import load_html
  try:
    return load_html(page_html)
  except Exception:  # not HTML at all: no text
    return None


def extract_page(page_html: str, url: Optional[str], favor: str = 'balanced',
                 min_chars: int = 200, story_min_words: int = 0,
                 story_min_paragraphs: int = 0,
                 lead_min_words: int = 0,
                 latest_date: Optional[str] = None) -> Dict[str, Any]:
  """Main text and metadata of a whole HTML page, parsed once.

  Returns {text, title, authors, date, description, canonical_url, stories};
  text is '' when no main text was found. `stories` is [(headline, text)]
  for a page of several stories (see ``story_elements``; story_min_words 0:
  not looked for), else []. A lead of at least `lead_min_words` words that
  the main text lacks is put back (see ``printed_lead``; 0: not looked for).
  `latest_date`: see ``page_metadata``.
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
    for headline, element in story_elements(tree, story_min_words,
                                            story_min_paragraphs):
      text = main_text(_story_page(element), url, favor, min_chars)
      if text:
        stories.append((headline, text))
  text = main_text(tree, url, favor, min_chars)
  if text and lead_min_words:
    text = with_lead(text, printed_lead(tree, meta['description'], text,
                                        lead_min_words))
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


def build_article(page: Dict[str, Any], favor: str = 'balanced',
                  min_chars: int = 200, max_html_bytes: Optional[int] = None,
                  page_extractor=extract_page) -> Dict[str, Any]:
  """A raw page record -> an article record with a normalized body.

  A page over `max_html_bytes` is cut to that size first, and flagged in
  `warnings`. `page_extractor` is `extract_page` or a stand-in with its
  signature (the Beam stage runs it under a time budget). The body may still
  hold boilerplate; cleaning comes next.
  """
  return _build(page, favor, min_chars, max_html_bytes, page_extractor)[0]


def _build(page: Dict[str, Any], favor: str, min_chars: int,
           max_html_bytes: Optional[int], page_extractor,
           page_options: Tuple[int, ...] = (0, 0, 0)
           ) -> Tuple[Dict[str, Any], List[Tuple[str, str]]]:
  """(article, [(headline, text)] of its stories) of a raw page record: one
  call of `page_extractor` per page, given `page_options` (its arguments
  after `min_chars`) and the latest publication day the page's fetch time
  allows."""
  from transforms.sources import iso_utc
  title = normalize_text(page.get('title')) or None
  summary = None
  if page.get('summary'):
    summary = html_fragment_to_text(page['summary']) or None
  authors = list(page.get('authors') or [])
  published_at = page.get('published_at')
  canonical = None
  warnings = list(page.get('warnings') or [])
  stories = []
  if page.get('html'):
    page_html = page['html']
    cut = truncate_html(page_html, max_html_bytes) if max_html_bytes else None
    if cut is not None:
      warnings.append('html cut to its first %d bytes (extract.max_html_bytes)'
                      % max_html_bytes)
      page_html = cut
    meta = page_extractor(page_html, page.get('url'), favor, min_chars,
                          *page_options,
                          latest_publication_day(page.get('fetched_at')))
    body = meta['text']
    stories = meta['stories']
    title = title or meta['title']
    authors = authors or meta['authors']
    published_at = published_at or iso_utc(meta['date'])
    summary = summary or meta['description']
    canonical = meta['canonical_url']
    if not body and page.get('content_html'):  # a fetched page, no main text
      body = html_fragment_to_text(page['content_html'])
    if not body and page.get('text'):
      body = normalize_text(page['text'])
  elif page.get('content_html'):
    body = html_fragment_to_text(page['content_html'])
  else:
    body = normalize_text(page.get('text'))
  canonical_url = canonicalize_url(canonical or page.get('url'))
  extra = {'fetch_error': page['fetch_error']} if 'fetch_error' in page else {}
  # Author names are text like the title: no markup reaches the record.
  authors = [a for a in (normalize_text(str(a)) for a in authors) if a]
  return schema.new_article(
      **extra,
      url=page.get('url'),
      canonical_url=canonical_url,
      feed_url=page.get('feed_url'),
      domain=domain_of(canonical_url),
      title=title,
      body=body,
      summary=summary,
      authors=authors,
      published_at=published_at,
      fetched_at=page.get('fetched_at'),
      source=page.get('source'),
      warnings=warnings,
  ), stories


def story_elements(tree, min_words: int, min_paragraphs: int
                   ) -> List[Tuple[str, Any]]:
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
    if (headline and len(paragraphs) >= min_paragraphs
        and sum(len(p.split()) for p in paragraphs) >= min_words):
      stories.append((headline, element))
  return stories if len(stories) >= 2 else []


def build_articles(page: Dict[str, Any], config: Dict[str, Any],
                   page_extractor=extract_page) -> List[Dict[str, Any]]:
  """A raw page record -> its article records: one, or one per story when
  its HTML holds several stories in <article> elements (`part` 0, 1, ...).
  `page_extractor` as in ``build_article``."""
  article, stories = _build(
      page, config['favor'], config['min_extracted_chars'],
      config['max_html_bytes'], page_extractor,
      (config['story_min_words'], config['story_min_paragraphs'],
       config['lead_min_words']))
  if not stories:
    return [article]
  return [dict(article, title=headline, body=text, summary=None, part=part)
          for part, (headline, text) in enumerate(stories)]


class ExtractArticles(beam.PTransform):
  """Raw page records -> article records (main), with tagged outputs
  `rejected` (no text could be extracted) and `dead_letter` (errors)."""

  def __init__(self, extract_config: Dict[str, Any]):
    super().__init__()
    self._config = extract_config

  def expand(self, pages):
    return pages | 'Extract' >> beam.ParDo(_ExtractFn(self._config)).with_outputs(
        REJECTED, DEAD_LETTER, main='articles')


# A small page the extraction process reads first, to load trafilatura.
_WARM_UP_PAGE = ('<html><body><article><p>Warm up.</p></article></body></html>',
                 None)


class _ExtractFn(beam.DoFn):

  def __init__(self, config):
    self._config = config
    self._timeout = config['timeout_seconds']
    self._ok = Metrics.counter(STAGE, 'extracted')
    self._empty = Metrics.counter(STAGE, 'no_text')
    self._failed = Metrics.counter(STAGE, 'failed')
    self._timed_out = Metrics.counter(STAGE, 'timeout')
    self._progress_seconds = config['progress_seconds']

  def setup(self):
    # 0 turns the budget off: pages are extracted in the worker itself.
    self._page_extractor = (
        TimeBudget(self._timeout, extract_page, warm_up=_WARM_UP_PAGE)
        if self._timeout else extract_page)
    self._progress = ProgressLog(self._progress_seconds, 'pages extracted')

  def teardown(self):
    if isinstance(self._page_extractor, TimeBudget):
      self._page_extractor.close()

  def process(self, page):
    for outcome in self._extract(page):
      self._progress.count(outcome.tag if isinstance(
          outcome, beam.pvalue.TaggedOutput) else 'articles')
      yield outcome

  def _extract(self, page):
    """The page's outputs: its articles (one per story), or a tagged
    rejection or dead letter."""
    try:
      articles = build_articles(page, self._config, self._page_extractor)
    except BudgetExceeded:
      self._timed_out.inc()
      return [beam.pvalue.TaggedOutput(DEAD_LETTER, schema.dead_letter(
          STAGE, 'timeout: extraction took over %g s (extract.timeout_seconds)'
          % self._timeout, page.get('raw'),
          url=page.get('url'), feed_url=page.get('feed_url')))]
    except Exception as e:
      self._failed.inc()
      return [beam.pvalue.TaggedOutput(DEAD_LETTER, schema.dead_letter(
          STAGE, '%s: %s' % (type(e).__name__, e), page.get('raw'),
          url=page.get('url'), feed_url=page.get('feed_url')))]
    outcomes = []
    for article in articles:
      if not article['body']:
        self._empty.inc()
        article['reason'] = 'no_text'
        outcomes.append(beam.pvalue.TaggedOutput(REJECTED, article))
      else:
        self._ok.inc()
        outcomes.append(article)
    return outcomes
