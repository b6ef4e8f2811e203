"""The one definition of newsbeam's records.

Every stage builds and reads records through this module, and the writers use
``ARTICLE_FIELDS`` to order what they write, so a field is named in one place.
Records travel through the pipeline as plain ``dict`` objects (cheap to pickle
on every runner); ``new_article`` fixes their shape.
"""

import hashlib
import json
import re
from typing import Any, Dict, Iterable, List, Optional

import pyarrow as pa

from transforms.fetch.redact import redact_url

# The record's fields and types, declared once: the Parquet writer writes
# this schema, the JSON writers order fields by it, and the docs' record
# reference is generated from it (each field's description is its metadata).
# Held fixed: other tools depend on these names (extend, never rename). Every
# value may be null.


def _field(name: str, arrow_type: pa.DataType, description: str) -> pa.Field:
  return pa.field(name, arrow_type, metadata={'description': description})


_REMOVED_FRAGMENT = pa.struct(
  [('text', pa.string()), ('reason', pa.string()), ('language', pa.string()), ('rule', pa.string())]
)
_TOPIC = pa.struct([('code', pa.string()), ('label', pa.string()), ('score', pa.float64())])

# An article record's fields, in the order they are written.
_ARTICLE_COLUMNS = (
  _field('id', pa.string(), 'stable id: hash of canonical URL, part and body'),
  _field('url', pa.string(), 'the URL the page was read or fetched from'),
  _field('canonical_url', pa.string(), 'the page\'s canonical URL, tracking parameters removed'),
  _field('feed_url', pa.string(), 'the feed that listed the item, for feed entries'),
  _field('domain', pa.string(), 'host of the canonical URL, without www.'),
  _field('title', pa.string(), 'headline, without the site\'s name'),
  _field('body', pa.string(), 'clean article text, paragraphs separated by blank lines'),
  _field('summary', pa.string(), 'the lead: the first paragraph, or the feed\'s summary'),
  _field('authors', pa.list_(pa.string()), 'bylines'),
  _field('published_at', pa.string(), 'publication time, ISO 8601 UTC'),
  _field('fetched_at', pa.string(), 'when the page was fetched or scraped, ISO 8601 UTC'),
  _field('language', pa.string(), 'ISO 639-1 code of the body\'s language'),
  _field('language_score', pa.float64(), 'the detector\'s confidence in `language`'),
  _field(
    'removed',
    pa.list_(_REMOVED_FRAGMENT),
    'what cleaning and the language stage cut: text, reason, language, rule',
  ),
  _field('topics', pa.list_(_TOPIC), 'IPTC Media Topics, best first: code, label, score'),
  _field('part', pa.int64(), 'story number on a page holding several (0 for the first)'),
)
# Fields added by later stages or carried by the non-article outputs.
_EXTRA_COLUMNS = (
  _field('source', pa.string(), 'the scraped record\'s `source`, or feed'),
  _field('warnings', pa.list_(pa.string()), 'non-fatal problems met on the way'),
  _field('cluster_size', pa.int64(), 'articles: how many inputs this record stands for'),
  _field('duplicate_of', pa.string(), 'duplicates: the kept record\'s id'),
  _field('similarity', pa.float64(), 'duplicates: 1.0 for exact, the Jaccard estimate for near'),
  _field('reason', pa.string(), 'rejected: why a rule filtered the record out'),
  _field(
    'fetch_error',
    pa.string(),
    '--fetch-articles: why the entry\'s page could not be fetched (the feed\'s text was kept)',
  ),
  _field('duplicate_rule', pa.string(), 'duplicates: exact_body, canonical_url, near or contained'),
  _field('first_seen_at', pa.string(), 'streams: when the item\'s URL was first seen'),
)
RECORD_SCHEMA = pa.schema(_ARTICLE_COLUMNS + _EXTRA_COLUMNS)
ARTICLE_FIELDS = tuple(f.name for f in _ARTICLE_COLUMNS)
EXTRA_FIELDS = tuple(f.name for f in _EXTRA_COLUMNS)

# Dead letters: what failed, where, and the input as read (`raw`, written as
# text by typed writers: JSON when it is not a string).
DEAD_LETTER_SCHEMA = pa.schema(
  [
    _field('url', pa.string(), 'the input\'s URL, when the input names one'),
    _field('feed_url', pa.string(), 'the feed that listed it, for feed entries'),
    _field('stage', pa.string(), 'the stage that failed'),
    _field('error', pa.string(), 'what went wrong'),
    _field('raw', pa.string(), 'the input as read (JSON when it is not text)'),
  ]
)
DEAD_LETTER_FIELDS = tuple(DEAD_LETTER_SCHEMA.names)

# Output folders under --output, one per place an input can end.
ARTICLES = 'articles'
DUPLICATES = 'duplicates'
REJECTED = 'rejected'
DEAD_LETTER = 'dead_letter'
OUTPUTS = (ARTICLES, DUPLICATES, REJECTED, DEAD_LETTER)


def by_output(outputs) -> Dict[str, Any]:
  """{output name: PCollection} from a pipeline's ``Outputs`` (a NamedTuple
  whose fields are the output names) or from such a mapping."""
  return outputs._asdict() if hasattr(outputs, '_asdict') else dict(outputs)


# The readers' tagged output of input records left out on purpose (a WARC's
# requests, a sitemap page unchanged since the last run), as {'type', 'day'}:
# counted by type in summary.json, not dead letters.
SKIPPED = 'skipped'

# What a sitemap says of the page it lists (news:title, the publication or
# modification time, news:language): a page record's `fallback`, for what the
# page itself lacks. Extraction carries it on the article to the language stage
# (a backfill dates its archived pages by it too), which drops it: never written.
FALLBACK = 'fallback'

# The language fields worked out ahead of the site boilerplate's barrier
# (``LabelAhead``, ``transforms/language/stage.py``), with what they were
# worked out from: the language stage takes them or drops them. Never written,
# nor kept in a dead letter.
LANGUAGE_AHEAD = 'language_ahead'

# The topics worked out ahead of dedup (``ScoreTopicsAhead``,
# ``transforms/topics/classify.py``), with what they were worked out from:
# classification takes them or drops them, and dedup's duplicates drop them.
# Never written, nor kept in a dead letter.
TOPICS_AHEAD = 'topics_ahead'

# Dedup's keys of the body (its fingerprint and MinHash sketch) worked out
# ahead of dedup (``SketchAhead``, ``transforms/dedup/ahead.py``), with the
# body they were worked out from: dedup takes them or works them out again.
# Never written, nor kept in a dead letter.
SKETCH_AHEAD = 'sketch_ahead'

# What stages work out ahead of the stage that takes it.
WORKED_AHEAD = (LANGUAGE_AHEAD, TOPICS_AHEAD, SKETCH_AHEAD)


def without_worked_ahead(record: Dict[str, Any]) -> Dict[str, Any]:
  """The record without what was worked out ahead for a later stage."""
  if not any(name in record for name in WORKED_AHEAD):
    return record
  return {k: v for k, v in record.items() if k not in WORKED_AHEAD}


# Reasons a piece of text is cut from a body (the `reason` in `removed`).
BOILERPLATE = 'boilerplate'
REPEATED_TITLE = 'repeated_title'
FOREIGN_LANGUAGE = 'foreign_language'


def new_article(**fields: Any) -> Dict[str, Any]:
  """Returns an article record with every field present (None or empty)."""
  record = {name: None for name in ARTICLE_FIELDS}
  record.update(authors=[], removed=[], topics=[], part=0, warnings=[])
  unknown = set(fields) - set(ARTICLE_FIELDS) - set(EXTRA_FIELDS)
  if unknown:
    raise ValueError('unknown record fields: %s' % sorted(unknown))
  record.update(fields)
  return record


def new_page(url: str, **fields: Any) -> Dict[str, Any]:
  """A raw page record as a reader hands it to extraction: every field a
  reader may set, present (None or empty), then `fields`."""
  page = {
    'url': url,
    'feed_url': None,
    'title': None,
    'summary': None,
    'authors': [],
    'published_at': None,
    'fetched_at': None,
    'source': None,
    'html': None,
    'text': None,
    'warnings': [],
    'raw': None,
  }
  page.update(fields)
  return page


def removed_fragment(
  text: str, reason: str, language: Optional[str] = None, rule: Optional[str] = None
) -> Dict[str, Any]:
  """One entry of a record's `removed` list: what was cut, and why (`reason`,
  and the `rule` that matched when there is more to say)."""
  fragment = {'text': text, 'reason': reason, 'language': language}
  if rule:
    fragment['rule'] = rule
  return fragment


def article_id(canonical_url: str, part: int, body: str) -> str:
  """A stable id: the same page, part and body give the same id on every run.

  The body is part of the id so that two different texts served under one
  URL (an updated story) are two records, and dedup can tell them apart.
  """
  digest = hashlib.sha256()
  for piece in (canonical_url or '', str(part), body or ''):
    digest.update(piece.encode('utf-8', 'surrogatepass'))
    digest.update(b'\x00')
  return digest.hexdigest()[:24]


def copy_id(record_id: str, copy: int, output: str = DUPLICATES) -> str:
  """The id of the `copy`-th (1, 2, ...) other record of `output` sharing
  `record_id`: the same text under the same URL read more than once. The
  article kept keeps the id (articles' ids never change); the other copies
  get these, so that an id names one record across the outputs."""
  digest = hashlib.sha256(('%s\x00%s\x00%d' % (record_id, output, copy)).encode('utf-8'))
  return digest.hexdigest()[:24]


def stage_failure(stage: str, error: Exception, record: Dict[str, Any]) -> Dict[str, Any]:
  """The dead letter of a record a stage raised on: the error, and the
  record as built so far as `raw` (replayable as a scraped `text` record)."""
  return dead_letter(
    stage,
    '%s: %s' % (type(error).__name__, error),
    ordered(without_worked_ahead(record)),
    url=record.get('url'),
    feed_url=record.get('feed_url'),
  )


def with_id(record: Dict[str, Any]) -> Dict[str, Any]:
  """The record with its stable `id` set from its final body."""
  return dict(
    record,
    id=article_id(
      record.get('canonical_url') or record.get('url'), record.get('part') or 0, record.get('body')
    ),
  )


def dead_letter(
  stage: str, error: str, raw: Any, url: Optional[str] = None, feed_url: Optional[str] = None
) -> Dict[str, Any]:
  """An input that failed, with what is needed to understand and replay it.
  Credentials in the URLs and the error message are redacted."""
  return {
    'url': redact_url(url),
    'feed_url': redact_url(feed_url),
    'stage': stage,
    'error': redact_url(error),
    'raw': raw,
  }


def output_schema(output: str) -> pa.Schema:
  """The declared schema of the records written to `output`."""
  return DEAD_LETTER_SCHEMA if output == DEAD_LETTER else RECORD_SCHEMA


_LONE_SURROGATE = re.compile('[\ud800-\udfff]')


def _encodes(text: str) -> bool:
  """Whether `text` holds no surrogate: the only code points UTF-8 cannot
  encode. Encoding is a C loop, several times faster than the pattern's scan
  of a page's HTML, which is what most strings read are."""
  try:
    text.encode('utf-8')
  except UnicodeEncodeError:
    return False
  return True


def without_lone_surrogates(record: Dict[str, Any]) -> Dict[str, Any]:
  """The record with unpaired surrogates in its strings (and lists of
  strings) replaced by U+FFFD. JSON's "\\ud800" escape decodes to one; it is
  not text, and neither Beam's coders nor a UTF-8 file can hold it."""

  def fix(value):
    if isinstance(value, str):
      return value if value.isascii() or _encodes(value) else _LONE_SURROGATE.sub('\ufffd', value)
    if isinstance(value, list):
      return [fix(v) for v in value]
    return value

  return {name: fix(value) for name, value in record.items()}


def ordered(record: Dict[str, Any]) -> Dict[str, Any]:
  """The record with article fields first, in schema order, then the rest."""
  out = {name: record.get(name) for name in ARTICLE_FIELDS if name in record}
  for name in EXTRA_FIELDS:
    if name in record:
      out[name] = record[name]
  for name in sorted(record):
    if name not in out:
      out[name] = record[name]
  return out


def to_json_line(record: Dict[str, Any]) -> str:
  """Serializes one record as a JSON line (UTF-8, keys in schema order)."""
  return json.dumps(ordered(record), ensure_ascii=False, sort_keys=False, default=str)


def word_count(text: Optional[str]) -> int:
  return len(text.split()) if text else 0


def paragraphs(body: Optional[str]) -> List[str]:
  """The body's paragraphs (separated by a blank line in every record)."""
  if not body:
    return []
  return [p for p in body.split('\n\n') if p.strip()]


def join_paragraphs(blocks: Iterable[str]) -> str:
  return '\n\n'.join(b for b in blocks if b)
