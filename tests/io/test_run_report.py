"""The run report: summary.json's new section, report.html from every run,
checked in a real headless Chromium; progress lines."""

import html
import json
import re
import shutil
import struct
import subprocess

import pytest

from pipelines import ingest
from transforms.io import report, sinks

HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def _summary():
  return sinks.build_summary(
    [
      (('outputs', 'articles'), 7),
      (('outputs', 'duplicates'), 2),
      (('outputs', 'rejected'), 1),
      (('outputs', 'dead_letter'), 3),
      (('languages', 'en'), 7),
      (('topics', 'medtop:15000000'), 4),
      (('topics', 'none'), 3),
      (('rejected_reasons', 'too_short'), 1),
      (('dead_letter_stages', 'read_scraped'), 3),
      (('dead_letter_reasons', 'read_scraped: invalid JSON'), 2),
      (('dead_letter_reasons', 'read_scraped: ' + HOSTILE), 1),
      (('duplicate_rules', 'near'), 2),
    ]
  )


def test_dead_letter_reasons_name_the_stage_and_error_not_the_input():
  reason = sinks.dead_letter_reason
  assert reason(
    {'stage': 'read_scraped', 'error': 'invalid UTF-8: byte 12 of /data/a.jsonl:3'}
  ) == ('read_scraped: invalid UTF-8')
  assert (
    reason({'stage': 'extract', 'error': 'timeout: extraction took over 30 s'})
    == 'extract: timeout'
  )
  assert reason({}) == 'unknown: unknown'


def test_report_shows_the_funnel_and_escapes_what_inputs_put_in_it():
  page = report.render_report(_summary(), {'medtop:15000000': 'sport'})
  assert [(label, count) for label, count, _ in report.funnel_rows(_summary())] == [
    ('records in (inputs, one per story)', 13),
    ('read and extracted (minus dead letters)', 10),
    ('kept by the filters (minus rejected)', 9),
    ('articles (minus duplicates)', 7),
  ]
  assert 'sport (medtop:15000000)' in page
  assert '<img' not in page and '<script' not in page
  assert html.escape(HOSTILE) in page
  assert 'http://' not in page and 'https://' not in page  # nothing external


def _chromium():
  for name in ('chromium', 'chromium-browser', 'google-chrome'):
    path = shutil.which(name)
    if path:
      return path
  pytest.skip(
    'no Chromium on this machine: `make test` installs it with '
    'apt-get when it can (see the Makefile); it could not here'
  )


def _headless(chromium, tmp_path, *args):
  return subprocess.run(
    [
      chromium,
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      '--user-data-dir=%s' % (tmp_path / 'chromium-profile'),
    ]
    + list(args),
    capture_output=True,
    timeout=120,
    check=True,
  )


def _png_size(path):
  with open(path, 'rb') as f:
    header = f.read(24)
  assert header[:8] == b'\x89PNG\r\n\x1a\n'
  return struct.unpack('>II', header[16:24])


@pytest.fixture
def run_output(tmp_path):
  """A real run on a small input with a bit of everything."""
  scraped = tmp_path / 'pages.jsonl'
  story = (
    'The home side won the cup final on Sunday after a late goal by '
    'their young striker, and the coach praised the whole team. '
  ) * 6
  scraped.write_text(
    '\n'.join(
      [
        json.dumps({'url': 'https://sport.example/final', 'text': story}),
        json.dumps({'url': 'https://copy.example/final', 'text': story}),
        json.dumps({'url': 'https://short.example/', 'text': 'Too short.'}),
        '{"url": "https://bad.example/", "text": ',
        json.dumps({'url': 'javascript:alert(1)', 'text': story}),
      ]
    ),
    encoding='utf-8',
  )
  output = tmp_path / 'out'
  summary = ingest.run(['--scraped', str(scraped), '--output', str(output)])
  return output, summary


def test_every_run_writes_a_report_that_a_browser_renders(run_output, tmp_path):
  output, summary = run_output
  assert summary['outputs'] == {'articles': 1, 'duplicates': 1, 'rejected': 1, 'dead_letter': 2}
  assert summary['dead_letter_reasons'] == {
    'read_scraped: invalid JSON': 1,
    'read_scraped: url is not an http(s) URL': 1,
  }
  chromium = _chromium()
  page = output / 'report.html'
  dom = _headless(chromium, tmp_path, '--dump-dom', page.as_uri()).stdout.decode('utf-8')
  # The DOM as Chromium built it: the funnel's numbers, in order.
  funnel = dom[dom.index('id="funnel"') : dom.index('id="outputs"')]
  assert re.findall(r'class="count">(\d+)<', funnel) == ['5', '3', '2', '1']
  assert 'sport (medtop:15000000)' in dom
  assert 'read_scraped: invalid JSON' in dom
  shot = tmp_path / 'report.png'
  _headless(
    chromium,
    tmp_path,
    '--screenshot=%s' % shot,
    '--window-size=1000,1200',
    '--hide-scrollbars',
    page.as_uri(),
  )
  assert _png_size(shot) == (1000, 1200)
