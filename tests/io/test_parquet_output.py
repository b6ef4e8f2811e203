"""--format parquet: a declared schema (nested lists and structs), and the
same records as JSON Lines."""

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines import ingest
from tests.helpers import OUTPUTS, page, part_files, read_records, write_jsonl
from transforms import schema


def _inputs(tmp_path, seed_text):
  scraped = tmp_path / 'scraped'
  scraped.mkdir()
  write_jsonl(
    scraped / 'a.jsonl',
    [
      {'url': 'https://seed.example/page', 'text': seed_text, 'authors': ['A. Writer']},
      page('storm', published_at='2022-04-02T08:00:00Z'),
      page('storm', host='copy.example'),
      {'url': 'https://brief.example/short', 'text': 'Too short.'},
      '{"url": "https://bad.example/broken", "text": ',
    ],
  )
  write_jsonl(scraped / 'b.jsonl.gz', [page('budget')])
  return str(scraped / '*.jsonl*')


def _run(scraped, output, file_format):
  ingest.run(['--scraped', scraped, '--output', str(output), '--format', file_format])


def _without_nulls(value):
  """A record with null fields dropped at every level: a Parquet row holds
  every declared field, a JSON line only those the record has."""
  if isinstance(value, dict):
    return {k: _without_nulls(v) for k, v in value.items() if v is not None}
  if isinstance(value, list):
    return [_without_nulls(v) for v in value]
  return value


def _key(record):
  return json.dumps(_without_nulls(record), sort_keys=True)


def test_every_record_field_is_declared_with_a_description():
  assert schema.RECORD_SCHEMA.names == list(schema.ARTICLE_FIELDS + schema.EXTRA_FIELDS)
  for declared in (schema.RECORD_SCHEMA, schema.DEAD_LETTER_SCHEMA):
    for field in declared:
      assert field.metadata[b'description'], field.name


def test_parquet_has_a_declared_schema_and_the_jsonl_records(tmp_path, seed_text):
  scraped = _inputs(tmp_path, seed_text)
  output = tmp_path / 'out'
  _run(scraped, output, 'jsonl')
  lines = {name: read_records(output / name) for name in OUTPUTS}
  # Into the same output: the rerun replaces the JSON Lines parts.
  _run(scraped, output, 'parquet')
  for name in OUTPUTS:
    parts = part_files(output / name)
    assert parts and {os.path.splitext(p)[1] for p in parts} == {'.parquet'}, name
    tables = [pq.read_table(p) for p in parts]
    for table in tables:
      assert table.schema.equals(schema.output_schema(name)), name
    rows = [row for table in tables for row in table.to_pylist()]
    assert rows, name
    assert sorted(map(_key, rows)) == sorted(map(_key, lines[name])), name
  articles = pq.read_table(output / 'articles').to_pylist()
  seed = [a for a in articles if a['url'] == 'https://seed.example/page']
  assert seed and all(a['authors'] == ['A. Writer'] for a in seed)
  assert any(
    f['reason'] == 'foreign_language' and f['language'] for a in seed for f in a['removed']
  )
  assert all(
    t['code'].startswith('medtop:') and t['score'] > 0 for a in articles for t in a['topics']
  )


def test_declared_types_of_nested_fields():
  articles = schema.output_schema('articles')
  assert articles.field('authors').type == pa.list_(pa.string())
  assert articles.field('removed').type == pa.list_(
    pa.struct(
      [
        ('text', pa.string()),
        ('reason', pa.string()),
        ('language', pa.string()),
        ('rule', pa.string()),
      ]
    )
  )
  assert articles.field('topics').type == pa.list_(
    pa.struct([('code', pa.string()), ('label', pa.string()), ('score', pa.float64())])
  )
  assert articles.field('part').type == pa.int64()
  assert schema.output_schema('dead_letter').names == ['url', 'feed_url', 'stage', 'error', 'raw']
