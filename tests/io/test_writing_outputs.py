"""The writing step: every output's part files, named as before, the summary,
and nothing temporary left behind."""

import gzip
import json
import os

import apache_beam as beam
import pyarrow.parquet as pq
import pytest

from transforms import schema
from transforms.io.sinks import WriteOutputs

ARTICLES = [
  schema.new_article(
    id='a%d' % n, url='https://news.example/%d' % n, body='Story %d.' % n, language='en'
  )
  for n in range(3)
]
DEAD = schema.dead_letter('read_scraped', 'invalid JSON: x', '{bad')


def _write(output, outputs, **options):
  with beam.Pipeline() as p:
    {
      name: p | 'In_%s' % name >> beam.Create(outputs.get(name, [])) for name in schema.OUTPUTS
    } | WriteOutputs(str(output), **options)


def _files(output):
  return sorted(
    os.path.relpath(os.path.join(folder, name), output)
    for folder, _, names in os.walk(output)
    for name in names
  )


@pytest.mark.parametrize(
  'options, suffix',
  [({}, '.jsonl'), ({'compress': True}, '.jsonl.gz'), ({'file_format': 'parquet'}, '.parquet')],
)
def test_each_output_is_part_files_and_nothing_temporary_remains(tmp_path, options, suffix):
  _write(tmp_path, {schema.ARTICLES: ARTICLES, schema.DEAD_LETTER: [DEAD]}, **options)
  # An output without records still gets its (empty) part file.
  assert _files(tmp_path) == sorted(
    ['%s/part-00000-of-00001%s' % (name, suffix) for name in schema.OUTPUTS]
    + ['report.html', 'summary.json']
  )
  path = tmp_path / 'articles' / ('part-00000-of-00001' + suffix)
  if suffix == '.parquet':
    ids = pq.read_table(path).column('id').to_pylist()
    assert pq.read_table(tmp_path / 'rejected' / 'part-00000-of-00001.parquet').num_rows == 0
  else:
    opener = gzip.open if suffix.endswith('.gz') else open
    with opener(path, 'rt', encoding='utf-8') as f:
      ids = [json.loads(line)['id'] for line in f]
  assert sorted(ids) == ['a0', 'a1', 'a2']
  summary = json.loads((tmp_path / 'summary.json').read_text())
  assert summary['outputs'] == {'articles': 3, 'duplicates': 0, 'rejected': 0, 'dead_letter': 1}
  assert summary['dead_letter_reasons'] == {'read_scraped: invalid JSON': 1}


def test_a_rerun_leaves_no_part_file_of_the_earlier_run(tmp_path):
  duplicate = dict(ARTICLES[0], duplicate_of='a9', similarity=1.0, duplicate_rule='exact_body')
  _write(tmp_path, {schema.ARTICLES: ARTICLES, schema.DUPLICATES: [duplicate]})
  stale = tmp_path / 'articles' / 'part-00003-of-00004.jsonl'
  stale.write_text('{"id": "stale"}\n')
  _write(tmp_path, {schema.ARTICLES: ARTICLES[:1]})
  assert not stale.exists()
  # This run had no duplicates: the earlier run's one is gone too.
  assert (tmp_path / 'duplicates' / 'part-00000-of-00001.jsonl').read_text() == ''
  assert _files(tmp_path / 'articles') == ['part-00000-of-00001.jsonl']


def test_a_backfill_day_is_written_under_its_partition(tmp_path):
  _write(tmp_path, {schema.ARTICLES: ARTICLES}, partition='dt=2022-04-02')
  assert 'articles/dt=2022-04-02/part-00000-of-00001.jsonl' in _files(tmp_path)
  summary = json.loads((tmp_path / 'summary' / 'dt=2022-04-02' / 'summary.json').read_text())
  assert summary['total'] == 3
