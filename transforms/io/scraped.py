"""Scraped pages: JSON Lines files, one page per line, read and validated.

``parse_scraped_line``, ``line_spans`` and ``span_lines`` are plain Python.
In a batch run a file is cut into spans of whole lines (``IndexScrapedFile``),
the spans are spread over the workers and each worker reads and parses its
own (``ReadScrapedSpan``): the pages themselves never go through a shuffle.
A stream reads each new file whole, span after span (``ReadScrapedFiles``).
A line ends as a raw page record or a dead letter.
"""

import contextlib
import json
import logging
import re
import zlib
from typing import Any, Dict, Iterable, Iterator, NamedTuple, Optional, Tuple

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


class LineSpan(NamedTuple):
  """Whole lines of a JSON Lines file, read together on one worker: `count`
  lines from byte `start` to byte `end` of the file at `path`, the first
  numbered `first_line`. A compressed file has no offset to seek to: its
  spans carry their lines (each cut as ``bounded_lines`` cuts it) in
  `lines`."""

  path: str
  start: int
  end: int
  first_line: int
  count: int
  lines: Optional[Tuple[bytes, ...]] = None


def is_compressed(path: str) -> bool:
  return CompressionTypes.detect_compression_type(path) != CompressionTypes.UNCOMPRESSED


class Gunzipped:
  """The bytes of a gzip stream `f` (its members one after the other), read
  in bounded memory; EOFError where the file ends inside a member. Beam's
  reader ends quietly there, so a file cut short in transfer would lose
  its last lines without a word."""

  def __init__(self, f):
    self._f = f
    self._inflater = zlib.decompressobj(31)
    self._pending = b''
    self._in_member = False
    self._full = False  # the last call gave all it was asked: zlib may hold more

  def read(self, n: int) -> bytes:
    while True:
      if not self._pending and not self._full:
        self._pending = self._f.read(1 << 20)
        if not self._pending:
          if self._in_member:
            raise EOFError('the file ends inside a gzip member (cut short?)')
          return b''
      data = self._inflater.decompress(self._pending, n)
      self._full = len(data) == n
      self._in_member = True
      if self._inflater.eof:
        self._pending, self._in_member, self._full = self._inflater.unused_data, False, False
        self._inflater = zlib.decompressobj(31)
      else:
        self._pending = self._inflater.unconsumed_tail
      if data:
        return data

  def close(self):
    self._f.close()


def open_scraped(path: str):
  """A scraped file's bytes, decompressed by its extension (gzip by the
  reader above, which says where a file is cut short)."""
  if CompressionTypes.detect_compression_type(path) == CompressionTypes.GZIP:
    return Gunzipped(FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED))
  return FileSystems.open(path, compression_type=CompressionTypes.AUTO)


def line_spans(
  f, path: str, split_bytes: int, split_lines: int, max_bytes: int, chunk_bytes: int = 1 << 20
) -> Iterator[LineSpan]:
  """The spans of the file `f` (opened from `path`, binary), each ending at
  a line's end once it holds `split_bytes` bytes or `split_lines` lines, the
  last at the end of the file. Only newlines are looked for in an
  uncompressed file; a compressed one's lines are read and carried. Errors
  of the file (a truncated gzip stream) are raised after the spans before
  them."""
  if is_compressed(path):
    yield from _carried_spans(f, path, split_bytes, split_lines, max_bytes)
    return
  start = position = 0
  first_line, count = 1, 0
  ends_line = True  # whether the bytes read so far end with a newline
  while True:
    chunk = f.read(chunk_bytes)
    if not chunk:
      break
    ends_line = chunk.endswith(b'\n')
    found = chunk.find(b'\n')
    while found >= 0:
      count += 1
      end = position + found + 1
      if end - start >= split_bytes or count >= split_lines:
        yield LineSpan(path, start, end, first_line, count)
        start, first_line, count = end, first_line + count, 0
      found = chunk.find(b'\n', found + 1)
    position += len(chunk)
  if position > start:
    yield LineSpan(path, start, position, first_line, count + (not ends_line))


def _carried_spans(f, path, split_bytes, split_lines, max_bytes) -> Iterator[LineSpan]:
  lines, size, first_line = [], 0, 1
  try:
    for line in bounded_lines(f, max_bytes):
      lines.append(line)
      size += len(line)
      if size >= split_bytes or len(lines) >= split_lines:
        yield LineSpan(path, 0, 0, first_line, len(lines), tuple(lines))
        first_line += len(lines)
        lines, size = [], 0
  except Exception:
    # The lines read before the damage are still read.
    if lines:
      yield LineSpan(path, 0, 0, first_line, len(lines), tuple(lines))
    raise
  if lines:
    yield LineSpan(path, 0, 0, first_line, len(lines), tuple(lines))


class _Window:
  """The next `size` bytes of a binary file, as a file to read."""

  def __init__(self, f, size: int):
    self._f, self._left = f, size

  def read(self, n: int) -> bytes:
    data = self._f.read(min(n, self._left)) if self._left > 0 else b''
    self._left -= len(data)
    return data


def span_lines(span: LineSpan, max_bytes: int) -> Iterator[Tuple[str, bytes]]:
  """(origin, line) of each line of the span that is not blank, origin being
  `path:N`, each line cut as ``bounded_lines`` cuts it. Raises what opening
  or reading the file raises."""
  if span.lines is not None:
    yield from _numbered(span.lines, span)
    return
  with FileSystems.open(span.path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
    f.seek(span.start)
    yield from _numbered(bounded_lines(_Window(f, span.end - span.start), max_bytes), span)


def _numbered(lines: Iterable[bytes], span: LineSpan) -> Iterator[Tuple[str, bytes]]:
  for line_no, line in enumerate(lines, span.first_line):
    if line.strip():
      yield '%s:%d' % (span.path, line_no), line


class IndexScrapedFile(beam.DoFn):
  """A JSON Lines file -> its ``LineSpan``s, to read on different workers
  (``read.scraped_split_bytes`` and ``read.scraped_split_lines``); a file
  that cannot be opened or read is a dead letter (after the spans of the
  lines read before the damage)."""

  def __init__(self, read_config: Dict[str, Any]):
    self._split_bytes = read_config['scraped_split_bytes']
    self._split_lines = read_config['scraped_split_lines']
    self._max_bytes = read_config['max_record_bytes']
    self._spans = Metrics.counter('sources', 'scraped_spans')

  def process(self, path: str):
    try:
      f = open_scraped(path)
    except Exception as e:
      yield beam.pvalue.TaggedOutput(
        schema.DEAD_LETTER,
        schema.dead_letter(STAGE_READ_SCRAPED, 'file could not be opened: %s' % e, path),
      )
      return
    read = 0
    try:
      with contextlib.closing(f):
        for span in line_spans(f, path, self._split_bytes, self._split_lines, self._max_bytes):
          self._spans.inc()
          read += span.count
          yield span
    except Exception as e:  # e.g. a truncated gzip stream
      yield beam.pvalue.TaggedOutput(
        schema.DEAD_LETTER,
        schema.dead_letter(
          STAGE_READ_SCRAPED, 'file unreadable after line %d: %s' % (read, e), path
        ),
      )


class ReadScrapedSpan(beam.DoFn):
  """A ``LineSpan`` -> its page records, and a dead letter for each bad
  line and for a span that cannot be read."""

  def __init__(self, read_config: Dict[str, Any]):
    self._max_bytes = read_config['max_record_bytes']
    self._lines = Metrics.counter('sources', 'scraped_lines')
    self._bad = Metrics.counter('sources', 'scraped_bad_lines')

  def process(self, span: LineSpan):
    try:
      for origin, line in span_lines(span, self._max_bytes):
        self._lines.inc()
        kind, record = parse_scraped_line(line, self._max_bytes, origin)
        if kind == schema.DEAD_LETTER:
          self._bad.inc()
          yield beam.pvalue.TaggedOutput(schema.DEAD_LETTER, record)
        else:
          yield record
    except Exception as e:
      logging.exception('reading %s from byte %d failed', span.path, span.start)
      yield beam.pvalue.TaggedOutput(
        schema.DEAD_LETTER,
        schema.dead_letter(
          STAGE_READ_SCRAPED,
          'file read failed at line %d or after: %s' % (span.first_line, e),
          span.path,
        ),
      )


class ReadScrapedFiles(beam.DoFn):
  """Reads and parses one JSON Lines file whole, span after span: -> page
  records, and dead letters (bad lines, unreadable files). A stream's way:
  its files are read as they come."""

  def __init__(self, read_config: Dict[str, Any]):
    self._index = IndexScrapedFile(read_config)
    self._read = ReadScrapedSpan(read_config)

  def process(self, path: str):
    for span in self._index.process(path):
      if isinstance(span, beam.pvalue.TaggedOutput):
        yield span
      else:
        yield from self._read.process(span)
