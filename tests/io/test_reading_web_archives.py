"""Web archives: a WARC file's HTML responses become pages, every other
record is skipped and counted, a damaged file gives up what precedes the
damage and one dead letter, and a file read in spans gives the same pages
as read whole."""

import gzip
import zlib

import pytest

from pipelines import ingest
from tests.helpers import read_outputs, story, story_page, write_warc
from transforms.io.warc import (
  SKIPPED,
  WarcDamage,
  dechunk,
  read_warc_records,
  record_offsets,
  spans,
)

HTML = {'Content-Type': 'text/html; charset=utf-8'}


def _chunked(data: bytes) -> bytes:
  half = len(data) // 2
  return b'%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n' % (half, data[:half], len(data) - half, data[half:])


# The HTML responses of the archive, and the records it must skip.
PAGES = {
  'https://news.example/tram': story_page('tram', published='2024-03-01T08:00:00Z'),
  'https://news.example/storm': story_page('storm'),
  'https://news.example/final': story_page('final'),
  'https://news.example/museum': story_page('museum', charset='iso-8859-1'),
}


def _records():
  deflated = zlib.compressobj(wbits=-15)
  raw_deflate = deflated.compress(PAGES['https://news.example/final']) + deflated.flush()
  return [
    ('request', 'https://news.example/tram', {}),
    (
      'response',
      'https://news.example/tram',
      {'headers': HTML, 'body': PAGES['https://news.example/tram']},
    ),
    ('metadata', 'https://news.example/tram', {'body': b'fetchTimeMs: 12\r\n'}),
    (
      'response',
      'https://news.example/storm',
      {
        'headers': dict(HTML, **{'Transfer-Encoding': 'chunked', 'Content-Encoding': 'gzip'}),
        'body': _chunked(gzip.compress(PAGES['https://news.example/storm'], mtime=0)),
      },
    ),
    (
      'response',
      'https://news.example/final',
      {'headers': dict(HTML, **{'Content-Encoding': 'deflate'}), 'body': raw_deflate},
    ),
    (
      'response',
      'https://news.example/museum',
      # No charset in the header: the page's own meta says iso-8859-1.
      {'headers': {'Content-Type': 'text/html'}, 'body': PAGES['https://news.example/museum']},
    ),
    (
      'response',
      'https://news.example/gone',
      {'status': 404, 'headers': HTML, 'body': b'<p>no</p>'},
    ),
    (
      'response',
      'https://news.example/logo.png',
      {'headers': {'Content-Type': 'image/png'}, 'body': b'\x89PNG\r\n'},
    ),
    ('revisit', 'https://news.example/tram', {'headers': HTML}),
    ('resource', 'https://news.example/robots.txt', {'body': b'User-agent: *\n'}),
  ]


SKIPS = {
  'warcinfo': 1,
  'request': 1,
  'metadata': 1,
  'revisit': 1,
  'resource': 1,
  'response_http_404': 1,
  'response_not_html': 1,
}


@pytest.fixture(scope='module')
def archives(tmp_path_factory):
  folder = tmp_path_factory.mktemp('warc')
  write_warc(folder / 'news.warc.gz', _records())
  write_warc(folder / 'plain.warc', _records()[:2], gzip_records=False)
  data = (folder / 'news.warc.gz').read_bytes()
  offsets, _ = record_offsets(open(folder / 'news.warc.gz', 'rb'))
  # Cut in the middle of the museum page's response (the seventh record).
  cut = (offsets[6] + offsets[7]) // 2
  (folder / 'cut.warc.gz').write_bytes(data[:cut])
  return folder, offsets


def _read(path, start=0, end=None):
  pages, skipped = [], []
  with open(path, 'rb') as f:
    for kind, item in read_warc_records(f, str(path), start, end):
      (skipped if kind == SKIPPED else pages).append(item)
  return pages, skipped


def test_html_responses_are_pages_decoded_and_the_rest_is_skipped_by_type(archives):
  folder, _ = archives
  pages, skipped = _read(folder / 'news.warc.gz')
  assert [p['url'] for p in pages] == list(PAGES)
  for page in pages:
    assert page['source'] == 'warc' and page['fetched_at'] == '2024-03-02T10:00:00Z'
    assert page['raw']['warc'].endswith('news.warc.gz')
  # Chunking, gzip and raw deflate undone; iso-8859-1 read from the meta tag.
  assert [story(n.rsplit('/', 1)[1]) in p['html'] for n, p in zip(PAGES, pages)] == [True] * 4
  counted = {}
  for item in skipped:
    counted[item['type']] = counted.get(item['type'], 0) + 1
  assert counted == SKIPS


def test_a_file_read_in_spans_gives_each_record_once(archives):
  folder, offsets = archives
  whole = _read(folder / 'news.warc.gz')
  cut = spans(offsets, True, 1)  # a span per record
  assert len(cut) == len(offsets)
  pieces = [_read(folder / 'news.warc.gz', start, end) for start, end in cut]
  assert [p for pages, _ in pieces for p in pages] == whole[0]
  assert [s for _, skipped in pieces for s in skipped] == whole[1]


def test_a_truncated_file_gives_the_records_before_the_damage(archives):
  folder, offsets = archives
  pages = []
  with pytest.raises(WarcDamage) as damage:
    with open(folder / 'cut.warc.gz', 'rb') as f:
      for kind, item in read_warc_records(f, 'cut.warc.gz'):
        if kind == 'page':
          pages.append(item['url'])
  assert pages == list(PAGES)[:3]
  assert damage.value.offset == offsets[6]


def test_chunked_bodies_are_joined():
  assert dechunk(b'4\r\nnews\r\n6;ext=1\r\n today\r\n0\r\n\r\n') == b'news today'
  with pytest.raises(ValueError):
    dechunk(b'ff\r\nshort\r\n')


def test_ingest_reads_archives_and_every_html_response_ends_in_one_output(archives, tmp_path):
  folder, offsets = archives
  output = tmp_path / 'out'
  summary = ingest.run(
    [
      '--warc',
      str(folder / '*.warc.gz'),
      '--warc',
      str(folder / 'plain.warc'),
      '--output',
      str(output),
      '--no-index',
    ]
  )
  out = read_outputs(output)
  ended = [r['url'] for name in ('articles', 'duplicates', 'rejected') for r in out[name]]
  # news.warc.gz: 4 pages; cut.warc.gz: the 3 before the damage; plain.warc: 1.
  assert sorted(ended) == sorted(list(PAGES) + list(PAGES)[:3] + list(PAGES)[:1])
  dead = out['dead_letter']
  assert len(dead) == 1 and dead[0]['stage'] == 'read_warc'
  assert 'cut.warc.gz' in dead[0]['error'] and 'byte %d' % offsets[6] in dead[0]['error']
  skipped = summary['skipped']
  # news.warc.gz in full, cut.warc.gz up to the damage, plain.warc.
  assert skipped['request'] == 3 and skipped['metadata'] == 2
  assert skipped['warcinfo'] == 3 and skipped['response_http_404'] == 1
  assert sum(summary['outputs'].values()) == len(ended) + 1


def test_spans_of_a_file_on_cloud_storage_give_the_pages_of_the_local_file(archives, gcs_bucket):
  from apache_beam.io.filesystem import CompressionTypes
  from apache_beam.io.filesystems import FileSystems

  folder, _ = archives
  gcs_bucket.blob('cc-news/news.warc.gz').upload_from_filename(str(folder / 'news.warc.gz'))
  path = 'gs://%s/cc-news/news.warc.gz' % gcs_bucket.name

  def remote_open():
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)

  with remote_open() as f:
    offsets, splittable = record_offsets(f)
  assert splittable
  remote = []
  for start, end in spans(offsets, splittable, 1000):
    with remote_open() as f:
      remote += [
        (item['url'], item['raw']['offset'])
        for kind, item in read_warc_records(f, path, start, end)
        if kind == 'page'
      ]
  local, _ = _read(folder / 'news.warc.gz')
  assert remote == [(p['url'], p['raw']['offset']) for p in local]
