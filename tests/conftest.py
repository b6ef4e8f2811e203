"""Shared fixtures: the seed page, the default config, a loopback HTTP server."""

import http.server
import itertools
import os
import threading

import pytest

from transforms.config import load_config

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')


@pytest.fixture(scope='session')
def config():
  return load_config()


@pytest.fixture(scope='session')
def seed_text():
  with open(os.path.join(FIXTURES, 'seed_page.txt'), encoding='utf-8') as f:
    return f.read()


class _Routes(http.server.BaseHTTPRequestHandler):
  routes = {}

  def do_GET(self):  # noqa: N802 (http.server's name)
    route = self.routes.get(self.path)
    if route is None:
      self.send_error(404)
      return
    status, headers, body = route
    self.send_response(status)
    for name, value in headers.items():
      self.send_header(name, value)
    self.send_header('Content-Length', str(len(body)))
    self.end_headers()
    self.wfile.write(body)

  def log_message(self, *args):
    pass


@pytest.fixture
def http_server():
  """A real HTTP server on 127.0.0.1; set `server.routes[path] = (status,
  headers, body)` and use `server.url(path)`."""
  handler = type('Handler', (_Routes,), {'routes': {}})
  server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
  server.routes = handler.routes
  server.url = lambda path: 'http://127.0.0.1:%d%s' % (server.server_port, path)
  thread = threading.Thread(target=server.serve_forever, daemon=True)
  thread.start()
  yield server
  server.shutdown()
  server.server_close()


_BUCKET_NUMBERS = itertools.count()


@pytest.fixture(scope='session')
def gcs_emulator(tmp_path_factory):
  """A real Cloud Storage emulator (gcp-storage-emulator) on 127.0.0.1.

  Yields the environment that points Beam's gcsio and google-cloud-storage at
  it: STORAGE_EMULATOR_HOST, and application default credentials from a
  local file holding a static, unexpiring token, so that Beam's credential look-up
  succeeds at once instead of retrying for half a minute (the emulator ignores
  the token; nothing is refreshed, nothing leaves the machine).
  """
  import json
  import socket
  from gcp_storage_emulator.server import create_server

  with socket.socket() as probe:
    probe.bind(('127.0.0.1', 0))
    port = probe.getsockname()[1]
  server = create_server('127.0.0.1', port, in_memory=True)
  server.start()
  credentials = tmp_path_factory.mktemp('gcloud') / 'adc.json'
  credentials.write_text(json.dumps({
      'type': 'authorized_user', 'client_id': 'newsbeam-tests',
      'client_secret': 'unused', 'refresh_token': 'unused',
      'token': 'emulator-token', 'expiry': '2999-01-01T00:00:00Z'}))
  yield {'STORAGE_EMULATOR_HOST': 'http://127.0.0.1:%d' % port,
         'GOOGLE_APPLICATION_CREDENTIALS': str(credentials),
         'GOOGLE_CLOUD_PROJECT': 'test'}
  server.stop()


@pytest.fixture
def gcs_bucket(gcs_emulator, monkeypatch):
  """A fresh bucket in the emulator, with the environment set for this test;
  yields a google.cloud.storage Bucket."""
  from google.auth.credentials import AnonymousCredentials
  from google.cloud import storage

  for name, value in gcs_emulator.items():
    monkeypatch.setenv(name, value)
  client = storage.Client(project='test', credentials=AnonymousCredentials())
  return client.create_bucket('newsbeam-%d' % next(_BUCKET_NUMBERS))
