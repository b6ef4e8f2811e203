"""Shared fixtures: the seed page, the default config, a loopback HTTP server."""

import http.server
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
