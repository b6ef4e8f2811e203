"""Shared fixtures: the seed page, the default config, a loopback HTTP
server, the Cloud Storage emulator, and an offline guard for dry runs."""

import http.server
import itertools
import os
import socket
import threading

import google.auth
import pytest

from configs.loading import load_config

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

  def do_GET(self):
    with self.server.lock:
      self.server.requests.append((self.path, dict(self.headers)))
    route = self.routes.get(self.path)
    if route is None:
      self.send_error(404)
    elif callable(route):
      route(self)
    else:
      self.respond(*route)

  def respond(self, status, headers, body):
    self.send_response(status)
    for name, value in headers.items():
      self.send_header(name, value)
    self.send_header('Content-Length', str(len(body)))
    self.end_headers()
    self.wfile.write(body)

  def log_message(self, *args):
    pass


class _Server(http.server.ThreadingHTTPServer):
  daemon_threads = True
  block_on_close = False  # a fault route may still be sleeping or streaming

  def handle_error(self, request, client_address):
    pass  # clients hang up on purpose (timeouts, size caps)


@pytest.fixture
def http_server():
  """A real HTTP server on 127.0.0.1; set `server.routes[path] = (status,
  headers, body)`, or a function of the request handler for a route that
  misbehaves (it may sleep, stream, or answer by request count), and use
  `server.url(path)`. `server.requests` holds each (path, headers) received
  and `server.count(path)` how many asked for a path."""
  handler = type('Handler', (_Routes,), {'routes': {}})
  server = _Server(('127.0.0.1', 0), handler)
  server.routes = handler.routes
  server.url = lambda path: 'http://127.0.0.1:%d%s' % (server.server_port, path)
  server.lock = threading.Lock()
  server.requests = []
  server.count = lambda path: sum(1 for p, _ in server.requests if p == path)
  thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
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
  credentials.write_text(
    json.dumps(
      {
        'type': 'authorized_user',
        'client_id': 'newsbeam-tests',
        'client_secret': 'unused',
        'refresh_token': 'unused',
        'token': 'emulator-token',
        'expiry': '2999-01-01T00:00:00Z',
      }
    )
  )
  yield {
    'STORAGE_EMULATOR_HOST': 'http://127.0.0.1:%d' % port,
    'GOOGLE_APPLICATION_CREDENTIALS': str(credentials),
    'GOOGLE_CLOUD_PROJECT': 'test',
  }
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


@pytest.fixture
def offline(monkeypatch):
  """Refuses (and records) every connection off the loopback interface and
  every credential look-up: building the job must need neither."""
  attempts = []
  connect = socket.socket.connect

  def guarded_connect(sock, address):
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and host not in ('127.0.0.1', '::1', 'localhost'):
      attempts.append(('connect', address))
      raise OSError('test is offline: refused %r' % (address,))
    return connect(sock, address)

  def no_credentials(*args, **kwargs):
    attempts.append(('google.auth.default', kwargs.get('scopes')))
    raise google.auth.exceptions.DefaultCredentialsError('test is offline')

  monkeypatch.setattr(socket.socket, 'connect', guarded_connect)
  monkeypatch.setattr(google.auth, 'default', no_credentials)
  return attempts
