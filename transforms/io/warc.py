"""Web archives: the HTML responses of WARC files as page records.

A WARC file (``.warc``, or ``.warc.gz`` gzipped per record as Common Crawl
writes it, or as one stream) holds the crawler's requests, responses and
metadata. Each ``response`` record with status 200 and an HTML payload
becomes a raw page record: `url` from WARC-Target-URI, `fetched_at` from
WARC-Date, the body with HTTP chunking and content encoding undone, decoded
with the fetcher's charset rules (``transforms/fetch/charset.py``: a BOM,
valid UTF-8, then the HTTP header's label, then the page's own meta, then
windows-1252). Every other record is skipped and counted by type
(``SKIPPED``), never a dead letter.

A CC-NEWS file is about 1 GB: one worker must not read it alone. An index
pass (``IndexWarcFile``) reads the record headers only and cuts the file into
spans of about `read.warc_split_bytes` at record offsets; the spans are
spread over the workers and each is read from its first record
(``ReadWarcSpan``). A file gzipped as one stream cannot be entered in the
middle and is one span.

Damage (a truncated file, a corrupt gzip member, garbage between records):
the records before it are read, and one dead letter names the file and the
offset of the record where reading stopped; other files are not affected.
FastWARC (from resiliparse) reads the records: it is several times faster
than warcio, which the tests use to write files.
"""

import zlib
from typing import Any, Dict, Iterator, List, Optional, Tuple

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from fastwarc.warc import ArchiveIterator, WarcRecordType

from transforms import schema
from transforms.fetch.charset import detect_charset
from transforms.io.timestamps import iso_utc
from transforms.text.urls import is_url

STAGE_READ_WARC = 'read_warc'
# The tagged output of skipped records: {'type': ..., 'day': WARC-Date's day}.
SKIPPED = schema.SKIPPED
SOURCE_WARC = 'warc'

_HTML_TYPES = ('text/html', 'application/xhtml+xml')
_GZIP_MAGIC = b'\x1f\x8b'
# FastWARC's record types are not hashable: their values name them.
_TYPE_NAMES = {
  int(getattr(WarcRecordType, name)): name
  for name in (
    'warcinfo',
    'response',
    'resource',
    'request',
    'metadata',
    'revisit',
    'conversion',
    'continuation',
  )
}


class WarcDamage(Exception):
  """Reading a file stopped at `offset`: what came before was read."""

  def __init__(self, offset: int, reason: str):
    super().__init__(reason)
    self.offset = offset


# --- Plain reading (no Beam) ----------------------------------------------------


def dechunk(body: bytes) -> bytes:
  """An HTTP/1.1 chunked body -> its payload. Raises ValueError when the
  body is not chunked as it says."""
  out, pos = [], 0
  while True:
    line_end = body.find(b'\r\n', pos)
    if line_end < 0:
      raise ValueError('chunk size line missing at %d' % pos)
    size = int(body[pos:line_end].split(b';', 1)[0].strip(), 16)
    if size == 0:
      return b''.join(out)
    start = line_end + 2
    if start + size > len(body):
      raise ValueError('chunk of %d bytes cut short' % size)
    out.append(body[start : start + size])
    pos = start + size + 2


def http_payload(body: bytes, transfer_encoding: str, content_encoding: str) -> bytes:
  """The payload as the page's author wrote it: chunking and gzip, deflate
  or brotli undone. Crawlers often store bodies already decoded while
  keeping the headers, so a body that does not decode as its headers say is
  taken as it is."""
  if 'chunked' in transfer_encoding.lower():
    try:
      body = dechunk(body)
    except ValueError:
      pass
  encoding = content_encoding.lower().strip()
  try:
    if encoding in ('gzip', 'x-gzip') and body.startswith(_GZIP_MAGIC):
      body = zlib.decompress(body, 47)
    elif encoding == 'deflate':
      try:
        body = zlib.decompress(body)
      except zlib.error:
        body = zlib.decompress(body, -15)  # raw deflate, as some servers send
    elif encoding == 'br':
      import brotli

      body = brotli.decompress(body)
  except Exception:  # already decoded by the crawler
    pass
  return body


def _target_uri(headers) -> str:
  # WARC/1.0 writers may wrap the URI in angle brackets.
  return (headers.get('WARC-Target-URI') or '').strip().strip('<>')


def parse_http_response(block: bytes) -> Optional[Tuple[int, Dict[str, str], bytes]]:
  """(status, headers with lower-case names, body) of an HTTP response as a
  WARC response record holds it; None when the block is not one."""
  head, sep, body = block.partition(b'\r\n\r\n')
  if not sep:
    head, sep, body = block.partition(b'\n\n')
  lines = head.decode('iso-8859-1').splitlines()
  parts = lines[0].split(None, 2) if lines else []
  if len(parts) < 2 or not parts[0].upper().startswith('HTTP/') or not parts[1].isdigit():
    return None
  headers = {}
  for line in lines[1:]:
    name, colon, value = line.partition(':')
    if colon:
      headers[name.strip().lower()] = value.strip()
  return int(parts[1]), headers, body


def _skip_reason(kind: str, http) -> Optional[str]:
  """Why a record is not a page (None: it is one)."""
  if kind != 'response':
    return kind
  if http is None:
    return 'response_not_http'
  status, headers, _ = http
  if status != 200:
    return 'response_http_%d' % status
  if headers.get('content-type', '').split(';')[0].strip().lower() not in _HTML_TYPES:
    return 'response_not_html'
  return None


def _gzip_tail_problem(f, offset: int) -> Optional[str]:
  """Why the gzip members from `offset` to the end of the file do not
  decompress whole (None: they do). FastWARC ends quietly at a member cut
  short, so the end of a file is checked here, in bounded memory."""
  f.seek(offset)
  inflater, pending, started = zlib.decompressobj(31), b'', False
  while True:
    if not pending:
      pending = f.read(1 << 20)
    if not pending:
      return 'gzip member cut short' if started else None
    try:
      inflater.decompress(pending, 1 << 20)
    except zlib.error as e:
      return 'corrupt gzip: %s' % e
    started = True
    if inflater.eof:
      pending, inflater, started = inflater.unused_data, zlib.decompressobj(31), False
    else:
      pending = inflater.unconsumed_tail


def read_warc_records(
  f, path: str, start: int = 0, end: Optional[int] = None
) -> Iterator[Tuple[str, Any]]:
  """The records of an open WARC file `f` from byte `start` (a record's
  offset) up to the record at `end` (None: the end of the file):
  ('page', page record) or (SKIPPED, {'type', 'day'}). Raises ``WarcDamage``
  after the records before the damage."""
  f.seek(start)
  gzipped = f.read(2) == _GZIP_MAGIC
  f.seek(start)
  last, one_stream, base = start, False, None
  try:
    for record in ArchiveIterator(
      f, parse_http=False, record_types=WarcRecordType.any_type, auto_decode='none'
    ):
      if base is None:
        # Positions count from the file's start, or from where reading began
        # (whichever the file object's tell() gives FastWARC).
        base = 0 if record.stream_pos == start else start
      offset = base + record.stream_pos
      if end is not None and offset >= end:
        return
      one_stream = one_stream or (offset <= last and offset != start)
      last = offset
      block = record.reader.read()
      if len(block) != _declared_length(record):
        raise WarcDamage(offset, 'record cut short')
      kind = _TYPE_NAMES.get(int(record.record_type), 'unknown')
      http = parse_http_response(block) if kind == 'response' else None
      reason = _skip_reason(kind, http)
      if reason is not None:
        yield SKIPPED, {'type': reason, 'day': day_of(record.headers.get('WARC-Date'))}
        continue
      yield 'page', _page(record.headers, http, path, offset)
  except WarcDamage:
    raise
  except Exception as e:  # FastWARC raises OSError on a corrupt member
    raise WarcDamage(last, str(e) or type(e).__name__) from e
  if end is None and gzipped:
    # A file gzipped as one stream is checked from its start.
    problem = _gzip_tail_problem(f, start if one_stream else last)
    if problem:
      raise WarcDamage(last, problem)


def _declared_length(record) -> int:
  try:
    return int(record.headers.get('Content-Length') or -1)
  except ValueError:
    return -1


def _page(warc_headers, http, path: str, offset: int) -> Dict[str, Any]:
  _, headers, body = http
  body = http_payload(
    body, headers.get('transfer-encoding', ''), headers.get('content-encoding', '')
  )
  html = body.decode(detect_charset(body, headers.get('content-type')), 'replace')
  return schema.new_page(
    _target_uri(warc_headers),
    fetched_at=iso_utc(warc_headers.get('WARC-Date')),
    source=SOURCE_WARC,
    html=html,
    # Where to find the record again: a page's HTML is not copied twice.
    raw={'warc': path, 'offset': offset},
  )


def record_offsets(f) -> Tuple[List[int], bool]:
  """(the offset of each record, in order, whether the file can be entered
  at them): the headers only, the first pass of splitting a file. Stops
  quietly at damage, which the reading pass reports."""
  f.seek(0)
  offsets = []
  try:
    for record in ArchiveIterator(
      f, parse_http=False, record_types=WarcRecordType.any_type, auto_decode='none'
    ):
      offsets.append(record.stream_pos)
  except Exception:
    pass
  # One gzip stream over the whole file: every record reports the same
  # position, and none can be reached without reading the ones before.
  splittable = all(a < b for a, b in zip(offsets, offsets[1:]))
  return offsets, splittable


def spans(
  offsets: List[int], splittable: bool, split_bytes: int
) -> List[Tuple[int, Optional[int]]]:
  """[(start, end)] spans of about `split_bytes`, cut at record offsets; the
  last runs to the end of the file (end None)."""
  if not splittable or not offsets:
    return [(0, None)]
  starts = [0]
  for offset in offsets[1:]:
    if offset - starts[-1] >= split_bytes:
      starts.append(offset)
  return list(zip(starts, starts[1:] + [None]))


# --- Beam -----------------------------------------------------------------------


def _open(path: str):
  # The bytes as stored: FastWARC undoes the gzip members itself.
  return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


class IndexWarcFile(beam.DoFn):
  """A WARC file -> its spans, (path, start, end), to read on different
  workers; a file that cannot be opened is a dead letter."""

  def __init__(self, read_config: Dict[str, Any]):
    self._split_bytes = read_config['warc_split_bytes']
    self._spans = Metrics.counter('sources', 'warc_spans')

  def process(self, path: str):
    try:
      with _open(path) as f:
        offsets, splittable = record_offsets(f)
    except Exception as e:
      yield beam.pvalue.TaggedOutput(
        schema.DEAD_LETTER,
        schema.dead_letter(STAGE_READ_WARC, 'file could not be opened: %s' % e, path),
      )
      return
    for start, end in spans(offsets, splittable, self._split_bytes):
      self._spans.inc()
      yield path, start, end


class ReadWarcSpan(beam.DoFn):
  """(path, start, end) -> page records; SKIPPED: {'type', 'day'} of each
  record that is not a page; a dead letter naming the file and offset where
  damage stopped the reading."""

  def __init__(self):
    self._pages = Metrics.counter('sources', 'warc_pages')
    self._skipped = Metrics.counter('sources', 'warc_skipped')
    self._damaged = Metrics.counter('sources', 'warc_damaged')

  def process(self, span: Tuple[str, int, Optional[int]]):
    path, start, end = span
    try:
      with _open(path) as f:
        for kind, item in read_warc_records(f, path, start, end):
          if kind == SKIPPED:
            self._skipped.inc()
            yield beam.pvalue.TaggedOutput(SKIPPED, item)
          elif is_url(item['url']):
            self._pages.inc()
            yield schema.without_lone_surrogates(item)
          else:
            yield beam.pvalue.TaggedOutput(
              schema.DEAD_LETTER,
              schema.dead_letter(
                STAGE_READ_WARC,
                'WARC-Target-URI is not an http(s) URL: %r' % item['url'][:100],
                item['raw'],
              ),
            )
    except WarcDamage as e:
      self._damaged.inc()
      yield beam.pvalue.TaggedOutput(
        schema.DEAD_LETTER,
        schema.dead_letter(
          STAGE_READ_WARC,
          'damaged file: %s: reading stopped at the record at byte %d: %s' % (path, e.offset, e),
          path,
        ),
      )
    except Exception as e:
      yield beam.pvalue.TaggedOutput(
        schema.DEAD_LETTER,
        schema.dead_letter(STAGE_READ_WARC, 'file could not be read: %s: %s' % (path, e), path),
      )


def day_of(value: Optional[str]) -> Optional[str]:
  """The YYYY-MM-DD day of an ISO 8601 time (None when unreadable)."""
  stamp = iso_utc(value)
  return stamp[:10] if stamp else None
