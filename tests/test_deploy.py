"""Deploying on Dataflow: the job graph builds offline (a dry run), and the
deploy files are valid."""

import json
import os
import socket

import google.auth
import pytest

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines import ingest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPLOY = os.path.join(ROOT, 'deploy')

# The command, as a user submits it, plus the dry-run options.
DATAFLOW_ARGS = [
    '--runner', 'DataflowRunner', '--project', 'newsbeam-test',
    '--region', 'us-central1', '--temp_location', 'gs://newsbeam-test/tmp',
    '--setup_file', os.path.join(ROOT, 'setup.py'),
    '--dry_run=True', '--no_auth', '--sdk_location', 'container',
]
INGEST_ARGS = ['--output', 'gs://newsbeam-test/clean',
               '--scraped', 'gs://newsbeam-test/raw/*.jsonl.gz',
               '--feeds', 'gs://newsbeam-test/feeds/*.xml']


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


def test_dataflow_dry_run_builds_the_job_offline(offline, tmp_path,
                                                 monkeypatch):
  # The stager builds an sdist of the package from --setup_file.
  monkeypatch.chdir(tmp_path)
  assert ingest.run(DATAFLOW_ARGS + INGEST_ARGS) is None
  assert offline == []


def test_dry_run_job_holds_every_stage_and_output(offline, config):
  options = PipelineOptions(DATAFLOW_ARGS)
  pipeline = beam.Pipeline(options=options)
  ingest.build_pipeline(pipeline, config, ['gs://newsbeam-test/feeds/*.xml'],
                        ['gs://newsbeam-test/raw/*.jsonl.gz'],
                        'gs://newsbeam-test/clean', 50)
  result = pipeline.run()
  names = {t.unique_name for t in
           result.job.proto_pipeline.components.transforms.values()}
  for stage in ('Read', 'Extract', 'Clean', 'Language', 'Filter', 'Dedup',
                'Classify', 'Write'):
    assert stage in names
  for output in ('articles', 'duplicates', 'rejected', 'dead_letter'):
    assert 'Write/Write_%s' % output in names
  assert 'Write/WriteSummary' in names
  assert result.job.options.view_as(
      beam.options.pipeline_options.GoogleCloudOptions).project == \
      'newsbeam-test'
  assert offline == []
