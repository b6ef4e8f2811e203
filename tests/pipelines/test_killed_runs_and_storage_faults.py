"""Faults a run meets in production, with real parts: a run killed with
SIGKILL mid-way, then rerun, gives exactly the records of a clean run; Cloud
Storage answering 503 to some requests loses and duplicates no record."""

import http.client
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from pipelines import ingest
from tests.helpers import (
  REPO_ROOT,
  distinct_story,
  files_under,
  parse_part,
  read_outputs,
  write_jsonl,
)
from transforms.dedup.index import output_run_key

PAGES = 60


@pytest.fixture
def pages(tmp_path):
  path = tmp_path / 'pages.jsonl'
  write_jsonl(
    path,
    [{'url': 'https://city.example/%d' % n, 'text': distinct_story(n)} for n in range(PAGES)]
    + ['{a line that is not JSON'],
  )
  return str(path)


def _earlier_output(output):
  """What an earlier run into `output` published (a story this run does not
  have, with its index entry), written by hand."""
  record = {'id': 'earlier', 'url': 'https://city.example/earlier', 'body': 'An earlier story.'}
  files = {
    'articles/part-00000-of-00001.jsonl': json.dumps(record) + '\n',
    'duplicates/part-00000-of-00001.jsonl': '',
    'rejected/part-00000-of-00001.jsonl': '',
    'dead_letter/part-00000-of-00001.jsonl': '',
    'summary.json': json.dumps({'outputs': {'articles': 1}}),
    '_index/run-%s-00003-of-00004.jsonl' % output_run_key(str(output)): json.dumps(
      {
        'id': 'earlier',
        'run': output_run_key(str(output)),
        'fingerprint': 'f',
        'url_key': 'city.example/earlier#0',
        'rank': ['9999', 0, 'earlier'],
        'signature': '',
        'shingles': 0,
      }
    )
    + '\n',
  }
  for relative, text in files.items():
    os.makedirs(os.path.dirname(os.path.join(output, relative)) or output, exist_ok=True)
    with open(os.path.join(output, relative), 'w') as f:
      f.write(text)
  return files_under(output)


def _visible(output):
  return {k: v for k, v in files_under(output).items() if '_staging' not in k.split(os.sep)}


def _index_ids(output):
  folder = os.path.join(str(output), '_index')
  return sorted(
    json.loads(line)['id']
    for name in os.listdir(folder)
    for line in open(os.path.join(folder, name), encoding='utf-8')
  )


def _kill_once_staging(args, output, log):
  """Starts the ingest command line and kills it (SIGKILL, the whole process
  group: workers and extraction children too) as soon as it has staged a
  file. -> whether it was killed before it wrote its publish manifest."""
  process = subprocess.Popen(
    [sys.executable, '-m', 'pipelines.ingest'] + args,
    cwd=REPO_ROOT,
    stdout=log,
    stderr=subprocess.STDOUT,
    start_new_session=True,
  )
  staging = os.path.join(str(output), '_staging')
  try:
    while process.poll() is None:
      if os.path.isdir(staging) and any(files for _, _, files in os.walk(staging)):
        break
      time.sleep(0.01)
    assert process.poll() is None, 'the run ended before it could be killed'
    os.killpg(process.pid, signal.SIGKILL)
  finally:
    process.wait()
  return not any('publish.json' in files for _, _, files in os.walk(staging))


def test_a_run_killed_mid_way_then_rerun_gives_the_records_of_a_clean_run(pages, tmp_path):
  output = tmp_path / 'out'
  earlier = _earlier_output(str(output))
  args = ['--scraped', pages, '--output', str(output)]
  with open(tmp_path / 'killed.log', 'wb') as log:
    before_manifest = _kill_once_staging(args, output, log)
  if before_manifest:
    # The killed run changed nothing a reader sees.
    assert _visible(output) == earlier
  ingest.run(args)
  assert not (output / '_staging').exists()

  clean = tmp_path / 'clean'
  ingest.run(['--scraped', pages, '--output', str(clean)])
  rerun = read_outputs(output, sort=True)
  assert rerun == read_outputs(clean, sort=True)
  assert rerun['summary']['total'] == PAGES + 1
  assert _index_ids(output) == _index_ids(clean) == sorted(a['id'] for a in rerun['articles'])


class _FaultyProxy(http.server.ThreadingHTTPServer):
  """Forwards HTTP requests to the storage emulator, answering every
  `every`-th request with 503 instead (each retry is a new request)."""

  daemon_threads = True

  def __init__(self, target_port, every):
    self.target_port, self.every = target_port, every
    self.requests, self.faults = 0, 0
    self.lock = threading.Lock()
    super().__init__(('127.0.0.1', 0), _ProxyHandler)


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
  protocol_version = 'HTTP/1.1'

  def log_message(self, *args):
    pass

  def _forward(self):
    # One request per connection: no client connection outlives the proxy.
    self.close_connection = True
    server = self.server
    length = int(self.headers.get('Content-Length') or 0)
    body = self.rfile.read(length) if length else None
    with server.lock:
      server.requests += 1
      fail = server.requests % server.every == 0
      server.faults += fail
    if fail:
      payload = b'{"error": {"code": 503, "message": "injected: backend unavailable"}}'
      self.send_response(503)
      self.send_header('Content-Type', 'application/json')
      self.send_header('Content-Length', str(len(payload)))
      self.send_header('Connection', 'close')
      self.end_headers()
      self.wfile.write(payload)
      return
    upstream = http.client.HTTPConnection('127.0.0.1', server.target_port, timeout=60)
    headers = {k: v for k, v in self.headers.items() if k.lower() != 'host'}
    upstream.request(self.command, self.path, body=body, headers=headers)
    response = upstream.getresponse()
    data = response.read()
    self.send_response(response.status)
    for key, value in response.getheaders():
      if key.lower() not in ('transfer-encoding', 'content-length', 'connection'):
        self.send_header(key, value)
    self.send_header('Content-Length', str(len(data)))
    self.send_header('Connection', 'close')
    self.end_headers()
    self.wfile.write(data)
    upstream.close()

  do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward


def _bucket_records(bucket, prefix):
  out = {name: [] for name in ('articles', 'duplicates', 'rejected', 'dead_letter')}
  index = []
  for blob in bucket.list_blobs(prefix=prefix + '/'):
    relative = blob.name[len(prefix) + 1 :]
    folder, name = relative.split('/', 1) if '/' in relative else ('', relative)
    if folder in out:
      out[folder] += parse_part(name, blob.download_as_bytes())
    elif folder == '_index':
      index += [json.loads(line)['id'] for line in blob.download_as_text().splitlines()]
    else:
      assert relative in ('summary.json', 'report.html'), blob.name
  return {k: sorted(v, key=lambda r: json.dumps(r, sort_keys=True)) for k, v in out.items()}, index


def test_cloud_storage_503s_lose_and_duplicate_no_record(pages, gcs_bucket, monkeypatch, tmp_path):
  clean = tmp_path / 'clean'
  ingest.run(['--scraped', pages, '--output', str(clean)])
  expected = read_outputs(clean, summary=False, sort=True)

  emulator_port = int(os.environ['STORAGE_EMULATOR_HOST'].rsplit(':', 1)[1])
  proxy = _FaultyProxy(emulator_port, every=7)
  thread = threading.Thread(target=proxy.serve_forever, daemon=True)
  thread.start()
  try:
    monkeypatch.setenv('STORAGE_EMULATOR_HOST', 'http://127.0.0.1:%d' % proxy.server_port)
    output = 'gs://%s/clean' % gcs_bucket.name
    summary = ingest.run(['--scraped', pages, '--output', output])
  finally:
    proxy.shutdown()
    proxy.server_close()
  assert proxy.faults > 0
  records, index = _bucket_records(gcs_bucket, 'clean')
  assert records == expected
  assert summary['total'] == PAGES + 1
  assert sorted(index) == sorted(a['id'] for a in expected['articles'])
