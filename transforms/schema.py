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

from transforms.fetch.redact import redact_url

# Fields of an article record, in the order they are written. Held fixed: other
# tools depend on these names (extend, never rename).
ARTICLE_FIELDS = (
  'id',
  'url',
  'canonical_url',
  'feed_url',
  'domain',
  'title',
  'body',
  'summary',
  'authors',
  'published_at',
  'fetched_at',
  'language',
  'language_score',
  'removed',
  'topics',
  'part',
)

# Fields added by later stages or carried by the non-article outputs.
EXTRA_FIELDS = (
  'source',  # the scraped record's `source`, or 'feed'
  'warnings',  # non-fatal problems met on the way (e.g. a recovered feed)
  'cluster_size',  # articles: how many inputs this record stands for
  'duplicate_of',  # duplicates: the kept record's id
  'similarity',  # duplicates: 1.0 for exact, Jaccard estimate for near
  'reason',  # rejected: why a rule filtered the record out
  'fetch_error',  # --fetch-articles: why the entry's page could not be
  # fetched (the feed's own text was kept); else None
  'duplicate_rule',  # duplicates: exact_body, canonical_url, near or contained
  'first_seen_at',  # pipelines.stream: when a poll first saw the item's URL
)

# The type of every field above, for writers with a declared schema (Parquet):
# a scalar type name, [type] for a list, {name: type} for a struct. Every
# value may be null.
_REMOVED_FRAGMENT = {'text': 'string', 'reason': 'string', 'language': 'string', 'rule': 'string'}
_TOPIC = {'code': 'string', 'label': 'string', 'score': 'float'}
FIELD_TYPES = {
  'id': 'string',
  'url': 'string',
  'canonical_url': 'string',
  'feed_url': 'string',
  'domain': 'string',
  'title': 'string',
  'body': 'string',
  'summary': 'string',
  'authors': ['string'],
  'published_at': 'string',
  'fetched_at': 'string',
  'language': 'string',
  'language_score': 'float',
  'removed': [_REMOVED_FRAGMENT],
  'topics': [_TOPIC],
  'part': 'int',
  'source': 'string',
  'warnings': ['string'],
  'cluster_size': 'int',
  'duplicate_of': 'string',
  'similarity': 'float',
  'reason': 'string',
  'duplicate_rule': 'string',
  'fetch_error': 'string',
  'first_seen_at': 'string',
}

# Dead letters: what failed, where, and the input as read (`raw`, written as
# text by typed writers: JSON when it is not a string).
DEAD_LETTER_FIELDS = ('url', 'feed_url', 'stage', 'error', 'raw')
DEAD_LETTER_TYPES = {name: 'string' for name in DEAD_LETTER_FIELDS}

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


def stage_failure(stage: str, error: Exception, record: Dict[str, Any]) -> Dict[str, Any]:
  """The dead letter of a record a stage raised on: the error, and the
  record as built so far as `raw` (replayable as a scraped `text` record)."""
  return dead_letter(
    stage,
    '%s: %s' % (type(error).__name__, error),
    ordered(record),
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


def record_fields(output: str) -> Dict[str, Any]:
  """{field: type} of the records written to `output`, in write order."""
  if output == DEAD_LETTER:
    return dict(DEAD_LETTER_TYPES)
  return {name: FIELD_TYPES[name] for name in ARTICLE_FIELDS + EXTRA_FIELDS}


_LONE_SURROGATE = re.compile('[\ud800-\udfff]')


def without_lone_surrogates(record: Dict[str, Any]) -> Dict[str, Any]:
  """The record with unpaired surrogates in its strings (and lists of
  strings) replaced by U+FFFD. JSON's "\\ud800" escape decodes to one; it is
  not text, and neither Beam's coders nor a UTF-8 file can hold it."""

  def fix(value):
    if isinstance(value, str):
      return value if value.isascii() else _LONE_SURROGATE.sub('\ufffd', value)
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
