"""Cloud Storage end to end against a real local emulator: scraped pages and
feeds read from gs://, every output and summary.json written there, the same
records as a local run, and no leftovers of an earlier run."""

import io
import json

import pyarrow.parquet as pq

from pipelines import backfill, ingest
from tests.helpers import OUTPUTS, jsonl_bytes, page, parse_part, read_outputs, story

FEED = '''<?xml version="1.0"?><rss version="2.0"><channel><title>Culture</title>
<item><title>Museum reopens</title><link>https://culture.example/museum</link>
<pubDate>Mon, 04 Apr 2022 09:00:00 +0000</pubDate>
<description>{body}</description></item>
<item><title>Linkless</title><description>No link here.</description></item>
</channel></rss>'''

INPUTS = {
  'raw/a.jsonl': [
    page('tram'),
    page('storm'),
    page('storm', host='copy.example'),  # a duplicate
    {'url': 'https://brief.example/short', 'text': 'Too short.'},
    '{"url": "https://bad.example/broken", "text": ',  # a dead letter
  ],
  'raw/b.jsonl.gz': [page('final', published_at='2022-04-03T10:00:00Z'), page('budget')],
}


def _feed():
  return FEED.format(body=story('museum')).encode('utf-8')


# A user config, read from where the run reads its inputs.
CONFIG = b'output:\n  compress: true\n'


def _run(root, output):
  return ingest.run(
    [
      '--scraped',
      root + '/raw/*.jsonl*',
      '--feeds',
      root + '/feeds/*.rss',
      '--output',
      output,
      '--config',
      root + '/newsbeam.yaml',
    ]
  )


def _normalized(records, root):
  """Records as comparable text, the input root replaced (it is in feed_url
  and in dead letters)."""
  return sorted(json.dumps(r, sort_keys=True).replace(root, 'ROOT') for r in records)


def _read_bucket(bucket, prefix):
  out = {name: [] for name in OUTPUTS}
  for blob in bucket.list_blobs(prefix=prefix + '/'):
    relative = blob.name[len(prefix) + 1 :]
    if relative == 'summary.json':
      out['summary'] = json.loads(blob.download_as_bytes())
    elif relative == 'report.html':
      out['report'] = blob.download_as_bytes().decode('utf-8')
    elif relative.startswith('_index/'):
      out.setdefault('index', []).append(relative)
    else:
      folder, name = relative.split('/', 1)
      assert name.startswith('part-'), blob.name
      out[folder] += parse_part(name, blob.download_as_bytes())
  return out


def test_gcs_round_trip_gives_the_records_of_a_local_run(gcs_bucket, tmp_path):
  local_root = tmp_path / 'in'
  for path, records in INPUTS.items():
    (local_root / path).parent.mkdir(parents=True, exist_ok=True)
    (local_root / path).write_bytes(jsonl_bytes(path, records))
    gcs_bucket.blob(path).upload_from_string(jsonl_bytes(path, records))
  (local_root / 'feeds').mkdir()
  (local_root / 'feeds' / 'culture.rss').write_bytes(_feed())
  gcs_bucket.blob('feeds/culture.rss').upload_from_string(_feed())
  (local_root / 'newsbeam.yaml').write_bytes(CONFIG)
  gcs_bucket.blob('newsbeam.yaml').upload_from_string(CONFIG)
  # A part file of an earlier run, which this run must replace.
  stale = gcs_bucket.blob('clean/articles/part-00007-of-00009.jsonl')
  stale.upload_from_string(b'{"id": "stale"}\n')

  _run(str(local_root), str(tmp_path / 'out'))
  root = 'gs://%s' % gcs_bucket.name
  summary = _run(root, root + '/clean')

  local = read_outputs(tmp_path / 'out')
  remote = _read_bucket(gcs_bucket, 'clean')
  assert not stale.exists()
  assert all(
    blob.name.endswith(('.jsonl.gz', 'summary.json', 'report.html'))
    or blob.name.startswith('clean/_index/run-')
    for blob in gcs_bucket.list_blobs(prefix='clean/')
  )
  assert remote['index']  # the published-records index is on gs:// too
  assert '<html' in remote['report']
  assert summary == remote['summary'] == local['summary']
  assert remote['summary']['outputs'] == {
    'articles': 5,
    'duplicates': 1,
    'rejected': 1,
    'dead_letter': 2,
  }
  for name in ('articles', 'duplicates', 'rejected', 'dead_letter'):
    assert _normalized(remote[name], root) == _normalized(local[name], str(local_root)), name
  assert {a['url'] for a in remote['articles']} >= {
    'https://culture.example/museum',
    'https://news.example/final',
  }


def test_backfill_reads_and_writes_date_partitions_on_gcs(gcs_bucket):
  days = {'2022-04-01': [page('tram'), page('storm')], '2022-04-02': [page('tram'), page('final')]}
  for day, records in days.items():
    path = 'raw/dt=%s/pages.jsonl.gz' % day
    gcs_bucket.blob(path).upload_from_string(jsonl_bytes(path, records))
  stale = gcs_bucket.blob('clean/articles/dt=2022-04-02/part-00001-of-00002.parquet')
  stale.upload_from_string(b'not parquet')
  root = 'gs://%s' % gcs_bucket.name
  backfill.run(
    [
      '--start',
      '2022-04-01',
      '--end',
      '2022-04-02',
      '--input-root',
      root + '/raw',
      '--output',
      root + '/clean',
      '--format',
      'parquet',
    ]
  )
  assert not stale.exists()
  names = sorted(b.name for b in gcs_bucket.list_blobs(prefix='clean/'))
  for day in days:
    assert 'clean/summary/dt=%s/summary.json' % day in names
    for output in ('articles', 'duplicates', 'rejected', 'dead_letter'):
      assert any(
        n.startswith('clean/%s/dt=%s/part-' % (output, day)) and n.endswith('.parquet')
        for n in names
      ), (output, day)
  summary = json.loads(
    gcs_bucket.blob('clean/summary/dt=2022-04-02/summary.json').download_as_bytes()
  )
  assert summary['outputs'] == {'articles': 1, 'duplicates': 1, 'rejected': 0, 'dead_letter': 0}
  day_one = [
    row
    for blob in gcs_bucket.list_blobs(prefix='clean/articles/dt=2022-04-01/')
    for row in pq.read_table(io.BytesIO(blob.download_as_bytes())).to_pylist()
  ]
  assert sorted(a['url'] for a in day_one) == [
    'https://news.example/storm',
    'https://news.example/tram',
  ]
