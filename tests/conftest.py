"""Shared fixtures: the seed page, the default config, the cleaner and the
language detector, a small topic model, a loopback HTTP server, the Cloud
Storage emulator, and an offline guard for dry runs. Plain helpers are in
tests/helpers.py."""

import itertools
import json
import os
import socket

import google.auth
import pytest

from configs.loading import load_config
from pipelines import train_classifier
from tests.helpers import FIXTURES, LABELLED, free_port, start_http_server, stop_http_server
from transforms.clean import ArticleCleaner
from transforms.language.detector import LanguageDetector


@pytest.fixture(scope='session', autouse=True)
def kept_files_in_a_temporary_folder(tmp_path_factory):
  """What newsbeam keeps between runs (dateparser's compiled patterns) goes
  to a folder of the test session's, not the user's cache."""
  os.environ['NEWSBEAM_CACHE_DIR'] = str(tmp_path_factory.mktemp('newsbeam-cache'))


@pytest.fixture(scope='session')
def config():
  return load_config()


@pytest.fixture(scope='session')
def seed_text():
  with open(os.path.join(FIXTURES, 'seed_page.txt'), encoding='utf-8') as f:
    return f.read()


@pytest.fixture(scope='module')
def cleaner(config):
  """The cleaning step with the default config."""
  return ArticleCleaner(config['clean'])


@pytest.fixture(scope='module')
def detector(config):
  """The language detector with the default config."""
  return LanguageDetector(config['language'])


@pytest.fixture(scope='module')
def small_config(tmp_path_factory):
  """The default config, with term counts fit for a 36-item training set."""
  path = tmp_path_factory.mktemp('config') / 'small.yaml'
  path.write_text('classify:\n  training:\n    word_min_df: 1\n    char_min_df: 1\n')
  return str(path)


@pytest.fixture(scope='module')
def model_path(tmp_path_factory, small_config):
  """A topic model trained on the fixture (tests/fixtures/topics.jsonl)."""
  path = str(tmp_path_factory.mktemp('model') / 'topics.joblib')
  train_classifier.run(
    ['--data', LABELLED, '--output', path, '--config', small_config, '--test-size', '0']
  )
  return path


@pytest.fixture
def http_server():
  """A real HTTP server on 127.0.0.1; set `server.routes[path] = (status,
  headers, body)`, or a function of the request handler for a route that
  misbehaves (it may sleep, stream, or answer by request count), and use
  `server.url(path)`. `server.requests` holds each (path, headers) received
  and `server.count(path)` how many asked for a path."""
  server = start_http_server()
  yield server
  stop_http_server(server)


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
  from gcp_storage_emulator.server import create_server

  port = free_port()
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
