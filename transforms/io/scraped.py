"""Scraped pages: JSON Lines files, one page per line, read and validated.

``parse_scraped_line`` is plain Python; ``ReadScrapedLines`` and
``ParseScrapedLines`` are the Beam steps (the lines are spread over the
workers between them). A line ends as a raw page record or a dead letter.
"""

import json
import logging
import re
from typing import Any, Dict, Iterable, Optional, Tuple

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from transforms import schema
from transforms.dead_letters import RAW_LIMIT, truncated
from transforms.io.timestamps import iso_utc, publication_time
from transforms.text.urls import is_url

STAGE_READ_SCRAPED = 'read_scraped'

# Scraped records: what a line may hold, and of what type.
_SCRAPED_STR_FIELDS = (
  'url',
  'html',
  'text',
  'title',
  'fetched_at',
  'source',
  'published_at',
  'summary',
)


def parse_scraped_line(line: bytes, max_bytes: int, origin: str = '') -> Tuple[str, Dict[str, Any]]:
  """One JSON Lines record of a scraped page -> ('page', record) or
  ('dead_letter', dead letter). Never raises."""
  kind, record = _read_scraped_line(line, max_bytes, origin)
  return kind, schema.without_lone_surrogates(record)


# The "url" member of a JSON object, read from a line that cannot be parsed
# whole (cut short, or not JSON after all): the dead letter still names it.
_URL_MEMBER = re.compile(r'"url"\s*:\s*("(?:[^"\\\n]|\\.){1,4096}")')


def named_url(text: str) -> Optional[str]:
  """The http(s) URL a raw scraped line names in its "url" member, or None."""
  found = _URL_MEMBER.search(text)
  if not found:
    return None
  try:
    url = json.loads(found.group(1)).strip()
  except ValueError:
    return None
  return url if is_url(url) else None


def decode_line(line: bytes) -> Tuple[str, Optional[str]]:
  """A line's text, and a warning when it is not UTF-8. Such a line is read
  as cp1252 (what pages labelled Latin-1 are in practice), or as Latin-1
  where it holds a byte cp1252 leaves undefined: every byte decodes, so the
  record is kept and says so."""
  try:
    return line.decode('utf-8'), None
  except UnicodeDecodeError as e:
    warning = 'not UTF-8 (byte %d): read as %%s' % e.start
  try:
    return line.decode('cp1252'), warning % 'cp1252'
  except UnicodeDecodeError:
    return line.decode('latin-1'), warning % 'latin-1'


def _read_scraped_line(line: bytes, max_bytes: int, origin: str) -> Tuple[str, Dict[str, Any]]:
  if len(line) > max_bytes:
    head = line[:RAW_LIMIT].decode('utf-8', 'backslashreplace')
    return schema.DEAD_LETTER, schema.dead_letter(
      STAGE_READ_SCRAPED,
      'record over the %d byte limit' % max_bytes,
      truncated(head),
      url=named_url(head),
    )
  decoded, not_utf8 = decode_line(line)
  decoded = decoded.strip().lstrip('\ufeff')
  try:
    obj = json.loads(decoded)
  except (ValueError, RecursionError) as e:
    error = 'invalid JSON: %s' % str(e)[:200]
    if not_utf8:
      error += ' (%s of %s)' % (not_utf8, origin)
    return schema.DEAD_LETTER, schema.dead_letter(
      STAGE_READ_SCRAPED, error, truncated(decoded), url=named_url(decoded[:RAW_LIMIT])
    )
  raw = decoded
  if not isinstance(obj, dict):
    return schema.DEAD_LETTER, schema.dead_letter(
      STAGE_READ_SCRAPED, 'record is a JSON %s, not an object' % type(obj).__name__, truncated(raw)
    )
  url = obj.get('url')
  for field in _SCRAPED_STR_FIELDS:
    value = obj.get(field)
    if value is not None and not isinstance(value, str):
      return schema.DEAD_LETTER, schema.dead_letter(
        STAGE_READ_SCRAPED,
        'field %r must be a string, got %s' % (field, type(value).__name__),
        truncated(raw),
        url=url if isinstance(url, str) else None,
      )
  if not url or not url.strip():
    return schema.DEAD_LETTER, schema.dead_letter(
      STAGE_READ_SCRAPED, 'missing required field "url"', truncated(raw)
    )
  if not is_url(url.strip()):
    # javascript:, data: and other schemes must not reach a record's links.
    return schema.DEAD_LETTER, schema.dead_letter(
      STAGE_READ_SCRAPED, 'url is not an http(s) URL: %r' % url[:100], truncated(raw)
    )
  if not (obj.get('html') or '').strip() and not (obj.get('text') or '').strip():
    return schema.DEAD_LETTER, schema.dead_letter(
      STAGE_READ_SCRAPED, 'record has neither "html" nor "text"', truncated(raw), url=url
    )
  authors = obj.get('authors') or []
  if isinstance(authors, str):
    authors = [authors]
  if not isinstance(authors, list):
    authors = []
  record = schema.new_page(
    url.strip(),
    title=obj.get('title'),
    summary=obj.get('summary'),
    authors=[a for a in authors if isinstance(a, str)],
    published_at=publication_time(obj.get('published_at')),
    fetched_at=iso_utc(obj.get('fetched_at')),
    source=obj.get('source'),
    html=obj.get('html') or None,
    text=obj.get('text') or None,
    warnings=[not_utf8] if not_utf8 else [],
    raw=raw,
  )
  if obj.get('fetched_at') and record['fetched_at'] is None:
    record['warnings'].append('unparsed fetched_at: %r' % obj['fetched_at'][:64])
  return 'page', record


def bounded_lines(f, max_bytes: int, chunk_bytes: int = 1 << 20) -> Iterable[bytes]:
  """The lines of a binary file (with their b'\\n'), each cut to at most
  `max_bytes` + 1 bytes: a line over the limit still reads as over it, and a
  file without newlines (binary garbage, one giant line) never fills memory,
  as readline() would."""
  pieces, kept = [], 0
  while True:
    chunk = f.read(chunk_bytes)
    if not chunk:
      break
    start = 0
    while start < len(chunk):
      end = chunk.find(b'\n', start)
      stop = len(chunk) if end < 0 else end + 1
      if kept <= max_bytes:
        piece = chunk[start : min(stop, start + max_bytes + 1 - kept)]
        pieces.append(piece)
        kept += len(piece)
      if end < 0:
        break
      yield b''.join(pieces)
      pieces, kept = [], 0
      start = stop
  if pieces:
    yield b''.join(pieces)


class ReadScrapedLines(beam.DoFn):
  """Reads one JSON Lines file (gzip by extension) line by line: ->
  (origin, line) for each line that is not blank, origin being `path:N`; a
  file that cannot be read is a dead letter."""

  def __init__(self, read_config: Dict[str, Any]):
    self._max_bytes = read_config['max_record_bytes']
    self._lines = Metrics.counter('sources', 'scraped_lines')

  def process(self, path: str):
    try:
      f = FileSystems.open(path, compression_type=CompressionTypes.AUTO)
    except Exception as e:
      yield beam.pvalue.TaggedOutput(
        schema.DEAD_LETTER,
        schema.dead_letter(STAGE_READ_SCRAPED, 'file could not be opened: %s' % e, path),
      )
      return
    line_no = 0
    lines = bounded_lines(f, self._max_bytes)
    try:
      with f:
        while True:
          try:
            line = next(lines, b'')
          except Exception as e:  # e.g. a truncated gzip stream
            yield beam.pvalue.TaggedOutput(
              schema.DEAD_LETTER,
              schema.dead_letter(
                STAGE_READ_SCRAPED, 'file unreadable after line %d: %s' % (line_no, e), path
              ),
            )
            return
          if not line:
            break
          line_no += 1
          if not line.strip():
            continue
          self._lines.inc()
          yield '%s:%d' % (path, line_no), line
    except Exception as e:
      logging.exception('reading %s failed', path)
      yield beam.pvalue.TaggedOutput(
        schema.DEAD_LETTER, schema.dead_letter(STAGE_READ_SCRAPED, 'file read failed: %s' % e, path)
      )


class ParseScrapedLines(beam.DoFn):
  """(origin, line) -> the scraped page record, or a dead letter."""

  def __init__(self, read_config: Dict[str, Any]):
    self._max_bytes = read_config['max_record_bytes']
    self._bad = Metrics.counter('sources', 'scraped_bad_lines')

  def process(self, origin_line: Tuple[str, bytes]):
    origin, line = origin_line
    kind, record = parse_scraped_line(line, self._max_bytes, origin)
    if kind == schema.DEAD_LETTER:
      self._bad.inc()
      yield beam.pvalue.TaggedOutput(schema.DEAD_LETTER, record)
    else:
      yield record


class ReadScrapedFiles(beam.DoFn):
  """Reads and parses one JSON Lines file: -> page records, and dead
  letters (bad lines, unreadable files)."""

  def __init__(self, read_config: Dict[str, Any]):
    self._read = ReadScrapedLines(read_config)
    self._parse = ParseScrapedLines(read_config)

  def process(self, path: str):
    for item in self._read.process(path):
      if isinstance(item, beam.pvalue.TaggedOutput):
        yield item
      else:
        yield from self._parse.process(item)
