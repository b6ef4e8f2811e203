"""Deduplication across runs: the published-records index."""

import glob
import json
import os

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipelines import ingest
from tests.helpers import read_outputs
from transforms import schema
from transforms.dedup.index import DeduplicateAgainstIndex, ReadPublished, RunIndex, output_run_key
from transforms.dedup.minhash import MinHasher
from transforms.dedup.rules import entry_sketch, index_entry

HARBOUR = ' '.join(
  'The harbour authority said on Monday that ferry number %d would resume '
  'its crossings once the storm damage to pier %d had been repaired.' % (i, i + 3)
  for i in range(8)
)
SCHOOLS = ' '.join(
  'Parents in district %d told the council that the new school timetable '
  'left pupils waiting %d minutes for the late bus every afternoon.' % (i, 10 + i)
  for i in range(8)
)
MARKET = ' '.join(
  'Traders at the covered market said rents rose by %d percent this year, '
  'and that %d stalls had closed since the spring.' % (i + 2, i)
  for i in range(8)
)


def _write_scraped(folder, name, pages):
  os.makedirs(folder, exist_ok=True)
  path = os.path.join(folder, name)
  with open(path, 'w', encoding='utf-8') as f:
    for url, text in pages:
      f.write(json.dumps({'url': url, 'text': text}) + '\n')
  return path


def _run(scraped, output, index):
  ingest.run(['--scraped', scraped, '--output', str(output), '--index', str(index)])
  out = read_outputs(output, summary=False)
  return {name: out[name] for name in ('articles', 'duplicates')}


def _files(folder):
  """Non-empty files under `folder` -> their lines. (An output left empty
  by a run may or may not have an empty part file: the writer's business.)"""
  found = {}
  for path in sorted(glob.glob(os.path.join(str(folder), '**', '*'), recursive=True)):
    if os.path.isfile(path) and os.path.getsize(path):
      with open(path, encoding='utf-8') as f:
        found[os.path.relpath(path, str(folder))] = sorted(f.read().splitlines())
  return found


def test_later_run_publishes_only_new_articles_and_reruns_are_idempotent(tmp_path):
  index = tmp_path / 'index'
  monday = _write_scraped(
    str(tmp_path / 'in1'),
    'monday.jsonl',
    [('https://port.example/ferries', HARBOUR), ('https://town.example/schools', SCHOOLS)],
  )
  tuesday = _write_scraped(
    str(tmp_path / 'in2'),
    'tuesday.jsonl',
    [
      # re-listed by the feed, with a tracking parameter
      ('https://port.example/ferries?utm_source=rss', HARBOUR),
      # the schools story syndicated with a copy edit
      ('https://wire.example/schools', SCHOOLS.replace('afternoon', 'evening', 1)),
      ('https://town.example/market', MARKET),
    ],
  )

  first = _run(monday, tmp_path / 'out1', index)
  published = {a['url']: a['id'] for a in first['articles']}
  assert sorted(published) == ['https://port.example/ferries', 'https://town.example/schools']
  assert first['duplicates'] == []

  second = _run(tuesday, tmp_path / 'out2', index)
  assert [a['url'] for a in second['articles']] == ['https://town.example/market']
  assert sorted(
    (d['url'], d['duplicate_of'], d['duplicate_rule']) for d in second['duplicates']
  ) == [
    (
      'https://port.example/ferries?utm_source=rss',
      published['https://port.example/ferries'],
      'exact_body',
    ),
    ('https://wire.example/schools', published['https://town.example/schools'], 'near'),
  ]

  # Reruns of the same input into the same output change nothing, even with
  # the index holding the other run's entries.
  files_two, entries = _files(tmp_path / 'out2'), _files(index)
  _run(tuesday, tmp_path / 'out2', index)
  assert _files(tmp_path / 'out2') == files_two
  files_one = _files(tmp_path / 'out1')
  again = _run(monday, tmp_path / 'out1', index)
  assert _files(tmp_path / 'out1') == files_one
  assert {a['url']: a['id'] for a in again['articles']} == published
  assert _files(index) == entries


def test_index_entry_keeps_what_verification_needs(config):
  hasher = MinHasher(config['dedup']['num_perm'], config['dedup']['shingle_words'])
  article = {
    'id': 'a1',
    'url': 'https://x.example/a',
    'part': 0,
    'canonical_url': 'https://x.example/a',
    'body': HARBOUR,
    'published_at': '2024-01-01T00:00:00Z',
  }
  entry = json.loads(json.dumps(index_entry(article, 'run1', hasher)))
  sketch = entry_sketch(entry)
  signature, count = hasher.sketch(HARBOUR)
  assert sketch.id == 'a1' and sketch.published_earlier
  assert (sketch.values() == signature).all() and sketch.shingle_count == count


def test_run_key_names_the_output(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  assert output_run_key('out') == output_run_key(str(tmp_path / 'out') + '/')
  assert output_run_key('out') != output_run_key('out2')
  assert output_run_key('gs://bucket/clean/') == output_run_key('gs://bucket/clean')


def test_index_lives_under_the_output_unless_turned_off(tmp_path):
  scraped = _write_scraped(
    str(tmp_path / 'in'), 'pages.jsonl', [('https://port.example/ferries', HARBOUR)]
  )
  ingest.run(['--scraped', scraped, '--output', str(tmp_path / 'with')])
  entries = glob.glob(str(tmp_path / 'with' / '_index' / 'run-*.jsonl'))
  assert [
    json.loads(line)['url_key'] for path in entries for line in open(path, encoding='utf-8')
  ] == ['port.example/ferries#0']
  ingest.run(['--scraped', scraped, '--output', str(tmp_path / 'without'), '--no-index'])
  assert not os.path.exists(tmp_path / 'without' / '_index')


def test_unreadable_index_lines_are_skipped(tmp_path, config):
  hasher = MinHasher(config['dedup']['num_perm'], config['dedup']['shingle_words'])
  entry = index_entry(
    {'id': 'a1', 'canonical_url': 'https://x.example/a', 'part': 0, 'body': HARBOUR}, 'run1', hasher
  )
  (tmp_path / 'run-run1-00000-of-00001.jsonl').write_text(
    '{"id": "truncated\n' + json.dumps(entry) + '\n["not", "an", "entry"]\n5\n'
  )
  with TestPipeline() as p:
    entries = p | ReadPublished(str(tmp_path))
    assert_that(entries | beam.Map(lambda e: e['id']), equal_to(['a1']))


def _dedup_against(index, articles, config, run):
  with TestPipeline() as p:
    kept, duplicates, _ = (
      p
      | beam.Create(articles)
      | DeduplicateAgainstIndex(config['dedup'], RunIndex(config['dedup'], index, run))
    )
    assert_that(
      kept | beam.Map(lambda a: a['id']),
      equal_to([a['id'] for a in articles if a['url'].endswith('new')]),
      label='kept',
    )
    assert_that(
      duplicates | beam.Map(lambda d: (d['id'], d['duplicate_of'])),
      equal_to([(a['id'], a['published_as']) for a in articles if 'published_as' in a]),
      label='duplicates',
    )


def test_index_on_cloud_storage(gcs_bucket, config):
  index = 'gs://%s/index' % gcs_bucket.name

  def article(url, body, **extra):
    return dict(schema.with_id(schema.new_article(url=url, canonical_url=url, body=body)), **extra)

  monday = [article('https://port.example/ferries-new', HARBOUR)]
  _dedup_against(index, monday, config, 'monday')
  assert FileSystems.match([index + '/run-*.jsonl'])[0].metadata_list
  tuesday = [
    article('https://wire.example/ferries', HARBOUR + ' More soon.', published_as=monday[0]['id']),
    article('https://town.example/schools-new', SCHOOLS),
  ]
  _dedup_against(index, tuesday, config, 'tuesday')
