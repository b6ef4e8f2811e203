"""A scraped JSON Lines file is cut into spans of whole lines, spread over
the workers and read there: the spans hold every line once, numbered as in
the file, whatever the cut sizes, for plain and gzip files; a damaged file
still gives every whole line read before the damage, and a gzip file cut
short says so."""

import gzip
import io
import json
import random
import zlib

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from configs.loading import load_config
from transforms.fetch.client import FetchOptions
from transforms.io.inputs import ReadInputs
from transforms.io.scraped import Gunzipped, bounded_lines, line_spans, open_scraped, span_lines

MAX_BYTES = 300


def file_lines(path, data):
  """(origin, line) of each line that is not blank, read whole, one line
  after the other: what the spans must give back."""
  f = gzip.open(io.BytesIO(data)) if path.endswith('.gz') else io.BytesIO(data)
  return [
    ('%s:%d' % (path, n), line)
    for n, line in enumerate(bounded_lines(f, MAX_BYTES), 1)
    if line.strip()
  ]


CONTENTS = [
  b'',
  b'\n',
  b'{"a": 1}',
  b'{"a": 1}\n',
  b'{"a": 1}\n\n   \n{"b": 2}\n{"c": 3}',
  b'\n\n{"a": 1}\n' + b'x' * 1000 + b'\n{"b": 2}\n' + b'y' * 700,
  b''.join(b'{"n": %d, "text": "%s"}\n' % (i, b'w ' * (i % 37)) for i in range(200)),
]


@pytest.mark.parametrize('content', CONTENTS)
@pytest.mark.parametrize('compressed', [False, True])
@pytest.mark.parametrize(
  'split_bytes, split_lines, chunk_bytes',
  [(1, 1, 7), (50, 1000, 16), (400, 3, 1 << 20), (1 << 22, 500, 64), (10**9, 10**9, 5)],
)
def test_spans_give_every_line_once_numbered_as_in_the_file(
  tmp_path, content, compressed, split_bytes, split_lines, chunk_bytes
):
  path = str(tmp_path / ('pages.jsonl.gz' if compressed else 'pages.jsonl'))
  data = gzip.compress(content) if compressed else content
  with open(path, 'wb') as f:
    f.write(data)
  with open(path, 'rb') as f:
    raw = gzip.open(f) if compressed else f
    spans = list(line_spans(raw, path, split_bytes, split_lines, MAX_BYTES, chunk_bytes))
  read = [pair for span in spans for pair in span_lines(span, MAX_BYTES)]
  assert read == file_lines(path, data)
  # Numbered one after the other, each within its cut sizes (a span may pass
  # split_bytes by its last line only), and a plain file's bytes covered
  # once, from its first to its last.
  assert [s.first_line for s in spans] == [
    1 + sum(s.count for s in spans[:i]) for i in range(len(spans))
  ]
  assert all(0 < s.count <= split_lines for s in spans)
  assert sum(s.count for s in spans) == len(content.splitlines())
  if compressed:
    assert all(s.lines is not None and len(s.lines) == s.count for s in spans)
  else:
    assert all(s.lines is None for s in spans)
    assert [(s.start, s.end) for s in spans] == list(
      zip([0] + [s.end for s in spans[:-1]], [s.end for s in spans])
    )
    assert (spans[-1].end if spans else 0) == len(content)
    assert all(content[s.end - 1 : s.end] == b'\n' for s in spans[:-1])
    assert all(
      s.end - s.start - len(content[s.start : s.end].rstrip(b'\n').rsplit(b'\n', 1)[-1]) - 1
      < split_bytes
      for s in spans
      if s.count > 1
    )


def whole_lines_before_damage(data):
  """The whole lines of a gzip file cut short: all that decompresses, up to
  its last newline."""
  readable = zlib.decompressobj(31).decompress(data)
  return readable[: readable.rindex(b'\n') + 1].splitlines(keepends=True)


@pytest.mark.parametrize('spread', [True, False])
def test_a_gzip_file_cut_short_gives_its_whole_lines_and_a_dead_letter(tmp_path, spread):
  # Random words, so that the file is several MB (read in chunks of 1 MB)
  # after the damage as before it.
  rng = random.Random(7)
  records = [
    {
      'url': 'https://news.example/%d' % i,
      'html': '<p>%s</p>' % ' '.join('%x' % rng.getrandbits(32) for _ in range(300)),
    }
    for i in range(3000)
  ]
  whole = gzip.compress(b''.join(json.dumps(r).encode() + b'\n' for r in records))
  cut = whole[: len(whole) * 2 // 3]
  path = tmp_path / 'cut.jsonl.gz'
  path.write_bytes(cut)
  before = whole_lines_before_damage(cut)
  assert 500 < len(before) < 2500
  config = load_config()
  config['read'].update(scraped_split_lines=200)
  with TestPipeline() as p:
    read = p | ReadInputs(
      [], [str(path)], config['read'], FetchOptions(config['fetch']), spread=spread
    )
    urls = read.pages | beam.Map(lambda page: page['url'])
    assert_that(
      urls | beam.combiners.Count.Globally(), equal_to([len(before)]), label='HowManyPages'
    )
    assert_that(urls, equal_to([json.loads(line)['url'] for line in before]))
    # The damage is said, after the last whole line; the line it cut is not
    # a line.
    assert_that(
      read.dead_letter | beam.Map(lambda d: d['error']),
      equal_to(
        [
          'file unreadable after line %d: the file ends inside a gzip member (cut short?)'
          % len(before)
        ]
      ),
      label='DeadLetters',
    )


def test_a_gzip_file_of_several_members_is_read_whole(tmp_path):
  lines = [b'{"n": %d}\n' % i for i in range(100)]
  path = tmp_path / 'joined.jsonl.gz'
  path.write_bytes(gzip.compress(b''.join(lines[:30])) + gzip.compress(b''.join(lines[30:])))
  f = open_scraped(str(path))
  spans = list(line_spans(f, str(path), 10**6, 7, MAX_BYTES))
  assert [line for s in spans for line in s.lines] == lines


class _FailingAfter(io.BytesIO):
  """A file whose reads fail past `after` bytes, as a damaged stream does."""

  def __init__(self, data, after):
    super().__init__(data)
    self._after = after

  def read(self, n=-1):
    if self.tell() >= self._after:
      raise OSError('damaged stream')
    return super().read(min(n, self._after - self.tell()))


def test_the_lines_read_before_a_read_fails_are_in_the_spans_before_the_error():
  data = b''.join(b'{"n": %d}\n' % i for i in range(10)) + b'{"n": 10, "cut'
  spans = []
  with pytest.raises(OSError, match='damaged stream'):
    for span in line_spans(_FailingAfter(data, len(data)), 'x.jsonl.gz', 10**9, 4, MAX_BYTES, 8):
      spans.append(span)
  # Every whole line read is in a span (the last two in one cut short by
  # the error); the line the damage cut is not a line.
  assert [s.count for s in spans] == [4, 4, 2]
  assert [line for s in spans for line in s.lines] == data.splitlines(keepends=True)[:10]


@pytest.mark.parametrize('spread', [True, False])
def test_spans_of_a_file_on_cloud_storage_are_read_from_their_offsets(gcs_bucket, spread):
  records = [
    {'url': 'https://news.example/%d' % i, 'html': '<p>Story %d %s</p>' % (i, 'word ' * (i % 11))}
    for i in range(50)
  ]
  lines = [json.dumps(r) for r in records]
  lines[20] = '{"url": "https://news.example/broken", "html": '
  gcs_bucket.blob('raw/pages.jsonl').upload_from_string('\n'.join(lines) + '\n')
  config = load_config()
  config['read'].update(scraped_split_lines=7, scraped_split_bytes=10**6)
  path = 'gs://%s/raw/pages.jsonl' % gcs_bucket.name
  with TestPipeline() as p:
    read = p | ReadInputs([], [path], config['read'], FetchOptions(config['fetch']), spread=spread)
    assert_that(
      read.pages | beam.Map(lambda page: page['url']),
      equal_to([r['url'] for i, r in enumerate(records) if i != 20]),
    )
    # The bad line is a dead letter; the lines after it are read.
    assert_that(
      read.dead_letter | beam.Map(lambda d: d['error'].startswith('invalid JSON')),
      equal_to([True]),
      label='OneBadLine',
    )


@pytest.mark.parametrize('seed', range(6))
def test_gzip_members_read_whole_in_reads_of_any_size_and_a_cut_is_an_error(seed):
  rng = random.Random(seed)
  parts = [
    b'a' * rng.randint(0, 300000),
    bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 5000))),
    b''.join(b'line %d %s\n' % (i, b'x' * rng.randint(0, 50)) for i in range(rng.randint(0, 3000))),
  ]
  parts = rng.sample(parts, 3)
  data = b''.join(gzip.compress(part) for part in parts)
  for size in (1, 7, 258, 4096, 1 << 20):
    reader, read = Gunzipped(io.BytesIO(data)), []
    while chunk := reader.read(size):
      assert len(chunk) <= size
      read.append(chunk)
    assert b''.join(read) == b''.join(parts)
  cut = Gunzipped(io.BytesIO(data[: rng.randint(1, len(data) - 9)]))
  with pytest.raises((EOFError, zlib.error)):
    while cut.read(4096):
      pass
