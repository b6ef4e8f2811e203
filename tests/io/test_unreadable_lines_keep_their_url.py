"""A scraped line that cannot be read whole still names its page: an
oversized line's dead letter carries the URL its head names, and a line
that is not UTF-8 is read as cp1252 (Latin-1 where cp1252 leaves a byte
undefined), kept, and flagged in `warnings`."""

import json

from tests.helpers import story
from transforms import extract
from transforms.io.scraped import decode_line, named_url, parse_scraped_line

LIMIT = 20_000_000


def test_a_20_mb_line_is_a_dead_letter_with_its_url():
  line = json.dumps(
    {'url': 'https://huge.example/story', 'html': '<p>%s</p>' % ('x' * (20 * 2**20))}
  ).encode()
  kind, dead = parse_scraped_line(line, LIMIT, 'huge.jsonl:1')
  assert kind == 'dead_letter' and 'over the 20000000 byte limit' in dead['error']
  assert dead['url'] == 'https://huge.example/story'
  assert len(dead['raw']) < 200000


def test_an_oversized_line_naming_its_url_after_the_body_has_none_to_give():
  line = json.dumps({'html': 'x' * 300000, 'url': 'https://late.example/a'}).encode()
  kind, dead = parse_scraped_line(line, 200000, 'late.jsonl:1')
  assert kind == 'dead_letter' and dead['url'] is None


def test_a_latin_1_line_is_kept_with_a_warning():
  body = story('museum') + ' Le café crème coûte 3 €.'
  line = (
    '{"url": "https://latin1.example/musee", "title": "Musée rouvert", "text": %s}'
    % json.dumps(body, ensure_ascii=False)
  ).encode('cp1252')
  kind, page = parse_scraped_line(line, LIMIT, 'fr.jsonl:3')
  assert kind == 'page'
  assert page['url'] == 'https://latin1.example/musee'
  assert page['title'] == 'Musée rouvert'
  assert page['warnings'] == ['not UTF-8 (byte %d): read as cp1252' % line.index(b'\xe9')]
  article = extract.build_article(page)
  assert article['body'].endswith('Le café crème coûte 3 €.')
  assert article['warnings'] == page['warnings']


def test_bytes_cp1252_leaves_undefined_are_read_as_latin_1():
  assert decode_line(b'caf\xe9 \x81') == ('caf\xe9 \x81', 'not UTF-8 (byte 3): read as latin-1')
  assert decode_line('café'.encode()) == ('café', None)


def test_a_line_not_json_still_names_its_url():
  cut = b'{"url": "https://cut.example/a\\u00e9", "html": "<p>cut sh'
  kind, dead = parse_scraped_line(cut, LIMIT, 'cut.jsonl:1')
  assert kind == 'dead_letter' and dead['error'].startswith('invalid JSON')
  assert dead['url'] == 'https://cut.example/a\u00e9'
  latin = b'{"url": "https://latin1.example/b", "text": "caf\xe9'
  kind, dead = parse_scraped_line(latin, LIMIT, 'fr.jsonl:9')
  assert kind == 'dead_letter'
  assert dead['url'] == 'https://latin1.example/b'
  assert dead['error'].endswith('(not UTF-8 (byte 48): read as cp1252 of fr.jsonl:9)')


def test_only_http_urls_are_named():
  assert named_url('{"url": "javascript:alert(1)", "text": "x') is None
  assert named_url('{"link": "https://a.example/", "text": "x') is None
  assert named_url('{"url" : "https://a.example/x?q=\\"y\\"",') == 'https://a.example/x?q="y"'
