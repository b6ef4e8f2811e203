"""No credentials in outputs or logs; secrets from the environment."""

import glob
import io
import logging
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from configs.loading import ConfigError, load_config
from pipelines import ingest
from tests.helpers import free_port
from transforms import schema
from transforms.fetch.client import FetchOptions
from transforms.fetch.redact import RedactingFilter, redact_url
from transforms.io.feeds import ReadFeedDocuments

SECRET = 's3cr3t-T0KEN'

FEED = b'''<?xml version="1.0"?><rss version="2.0"><channel><title>Private</title>
<item><title>Members vote on the new clubhouse</title>
<link>https://club.example/vote</link><description>%s</description></item>
</channel></rss>''' % (
  b'The members of the rowing club voted on Tuesday to '
  b'build a new clubhouse by the river next spring. ' * 6
)


@pytest.mark.parametrize(
  'text,expected',
  [
    ('https://user:%s@feeds.example/rss' % SECRET, 'https://REDACTED@feeds.example/rss'),
    (
      'https://feeds.example/rss?token=%s&page=2' % SECRET,
      'https://feeds.example/rss?token=REDACTED&page=2',
    ),
    (
      'https://feeds.example/rss?page=2&ApiKey=%s#top' % SECRET,
      'https://feeds.example/rss?page=2&ApiKey=REDACTED#top',
    ),
    (
      'https://f.example/x?key=%s;sig=%s' % (SECRET, SECRET),
      'https://f.example/x?key=REDACTED;sig=REDACTED',
    ),
    (
      'https://f.example/x?access_token=%s&X-Amz-Signature=%s' % (SECRET, SECRET),
      'https://f.example/x?access_token=REDACTED&X-Amz-Signature=REDACTED',
    ),
    # An HTTP library's error quotes only the path and query.
    (
      "HTTPConnectionPool(host='f.example', port=80): Max retries exceeded "
      "with url: /rss?apikey=%s (Caused by ...)" % SECRET,
      "HTTPConnectionPool(host='f.example', port=80): Max retries exceeded "
      "with url: /rss?apikey=REDACTED (Caused by ...)",
    ),
    ('https://f.example/news?monkey=1&keyword=x', None),
    ('no URL here', None),
  ],
)
def test_redact_url(text, expected):
  assert redact_url(text) == (text if expected is None else expected)


def test_redact_url_leaves_non_strings_alone():
  assert redact_url(None) is None and redact_url(5) == 5


def test_dead_letters_never_carry_credentials():
  dead = schema.dead_letter(
    'read_feed',
    'feed could not be read: 401 for url: https://u:%s@f.example/rss?token=%s' % (SECRET, SECRET),
    'raw',
    url='https://f.example/rss?token=%s' % SECRET,
    feed_url='https://u:%s@f.example/rss' % SECRET,
  )
  assert SECRET not in repr(dead)


def test_log_lines_are_redacted():
  stream = io.StringIO()
  handler = logging.StreamHandler(stream)
  handler.addFilter(RedactingFilter())
  logger = logging.getLogger('newsbeam.test_security')
  logger.addHandler(handler)
  try:
    logger.warning('fetching %s failed', 'https://f.example/?token=%s' % SECRET)
  finally:
    logger.removeHandler(handler)
  assert stream.getvalue() == 'fetching https://f.example/?token=REDACTED failed\n'


def _all_output_text(output):
  texts = []
  for path in glob.glob(os.path.join(output, '**', '*'), recursive=True):
    if os.path.isfile(path):
      with open(path, encoding='utf-8', errors='replace') as f:
        texts.append(f.read())
  return '\n'.join(texts)


def test_feed_credentials_are_used_but_never_written(http_server, tmp_path, monkeypatch, caplog):
  # The server answers only with the token: the fetch used it.
  http_server.routes['/private.xml?token=%s' % SECRET] = (
    200,
    {'Content-Type': 'application/rss+xml'},
    FEED,
  )
  monkeypatch.setenv('NEWSBEAM_TEST_FEED_TOKEN', SECRET)
  config = tmp_path / 'private.yaml'
  config.write_text(
    'inputs:\n  feeds:\n'
    '    - "%s?token=${NEWSBEAM_TEST_FEED_TOKEN}"\n'
    '    - "http://reader:%s@127.0.0.1:%d/gone.xml?key=%s"\n'
    '  scraped: []\n' % (http_server.url('/private.xml'), SECRET, free_port(), SECRET)
  )
  output = str(tmp_path / 'out')
  with caplog.at_level(logging.DEBUG):
    summary = ingest.run(['--config', str(config), '--output', output, '--allow-private-hosts'])
  assert summary['outputs']['articles'] == 1
  assert summary['outputs']['dead_letter'] == 1
  written = _all_output_text(output)
  assert 'club.example/vote' in written and 'REDACTED' in written
  assert SECRET not in written
  assert 'private.xml?token=REDACTED' in written
  assert 'token=REDACTED' in caplog.text  # urllib3 logged the request
  assert SECRET not in caplog.text


def test_config_reads_secrets_from_the_environment(tmp_path, monkeypatch):
  monkeypatch.setenv('NEWSBEAM_TEST_AGENT', 'bot/1.0')
  config = tmp_path / 'env.yaml'
  config.write_text('fetch:\n  user_agent: "newsbeam ${NEWSBEAM_TEST_AGENT} $${NOT_EXPANDED}"\n')
  assert load_config(str(config))['fetch']['user_agent'] == ('newsbeam bot/1.0 ${NOT_EXPANDED}')
  monkeypatch.delenv('NEWSBEAM_TEST_AGENT')
  with pytest.raises(
    ConfigError,
    match=r'fetch.user_agent uses '
    r'\$\{NEWSBEAM_TEST_AGENT\}, which is not set',
  ):
    load_config(str(config))


def test_feed_fetch_errors_are_dead_letters_without_the_secret():
  config = load_config()
  read = ReadFeedDocuments(config['read'], FetchOptions(config['fetch'], allow_private_hosts=True))
  read.setup()
  spec = 'http://u:%s@127.0.0.1:%d/x.xml?token=%s' % (SECRET, free_port(), SECRET)
  try:
    out = list(read.process(spec))
  finally:
    read.teardown()
  assert len(out) == 1 and out[0].tag == 'dead_letter'
  dead = out[0].value
  assert dead['stage'] == 'read_feed' and dead['error']
  assert 'REDACTED' in dead['url'] and SECRET not in repr(dead)


@settings(max_examples=150, deadline=None)
@given(
  st.sampled_from(
    ['token', 'TOKEN', 'access_token', 'key', 'apikey', 'api_key', 'sig', 'Signature', 'password']
  ),
  st.text(
    st.characters(codec='ascii', categories=['L', 'N']) | st.sampled_from('-_.~%+/'),
    min_size=6,
    max_size=40,
  ),
  st.sampled_from(['', 'page=2&', 'a=1;']),
  st.sampled_from(['', 'user:pw@']),
  st.sampled_from(['', '&next=1', '#frag', ' and more text']),
)
def test_no_secret_survives_redaction(param, secret, before, userinfo, after):
  url = 'https://%sfeeds.example/rss?%s%s=%s%s' % (userinfo, before, param, secret, after)
  redacted = redact_url(url)
  assert '=%s' % secret not in redacted and 'user:pw' not in redacted
  assert redact_url(redacted) == redacted
