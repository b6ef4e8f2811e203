"""Backfills and the published-records index: separate backfills of
consecutive ranges find the stories earlier days published, and a day rerun
later gives the same records and index entries as the first time."""

import glob
import json
import os
import shutil

import pytest

from pipelines import backfill
from tests.helpers import OUTPUTS, jsonl_bytes, page, read_day, story, write_jsonl
from transforms.dedup.days import (
  index_file_day,
  indexed_before,
  later_days_indexed,
)
from transforms.io.scraped import named_url

FIRST = ('2022-04-01', '2022-04-02', '2022-04-03')
SECOND = ('2022-04-04', '2022-04-05')
DAYS = FIRST + SECOND
STORM_EDITED = story('storm').replace('heavy rain', 'driving rain', 1)

RAW = {
  '2022-04-01': [page('tram'), page('storm')],
  # the storm story again on the next day: a duplicate within the range
  '2022-04-02': [
    page('final'),
    page('budget'),
    page('storm', host='wire.example'),
    '{"url": "https://bad.example/broken"',
  ],
  '2022-04-03': [page('museum'), {'url': 'https://brief.example/x', 'text': 'Short.'}],
  '2022-04-04': [page('harvest')],
  # republished days later: duplicates of articles of the first backfill
  '2022-04-05': [
    page('budget', host='wire.example', published_at='2022-04-05T06:00:00Z'),
    page('tram', url='https://news.example/tram?utm_source=rss'),
    dict(page('storm', host='radio.example'), text=STORM_EDITED),
  ],
}


def _write_raw(root, raw):
  for day, records in raw.items():
    folder = root / ('dt=' + day)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    write_jsonl(folder / 'pages.jsonl.gz', records)


def _backfill(root, output, days, *flags):
  return backfill.run(
    ['--start', days[0], '--end', days[-1], '--input-root', str(root), '--output', str(output)]
    + list(flags)
  )


def _index(folder):
  """Index files -> their lines, by path under the index folder."""
  folder = str(folder)
  found = {}
  for path in sorted(glob.glob(os.path.join(folder, '**', '*.jsonl'), recursive=True)):
    with open(path, encoding='utf-8') as f:
      found[os.path.relpath(path, folder)] = f.read().splitlines()
  return found


def _urls(records):
  return sorted(r['url'] for r in records)


def _ids(day_records, name='articles'):
  return {r['url']: r['id'] for r in day_records[name]}


@pytest.fixture(scope='module')
def two_backfills(tmp_path_factory):
  """04-01..04-03, then 04-04..04-05 in a second run, sharing the output
  (and so its index)."""
  root = tmp_path_factory.mktemp('raw')
  output = tmp_path_factory.mktemp('clean')
  _write_raw(root, RAW)
  _backfill(root, output, FIRST)
  _backfill(root, output, SECOND)
  return root, output, {day: read_day(output, day) for day in DAYS}


def test_a_later_backfill_finds_stories_earlier_days_published(two_backfills):
  _, _, days = two_backfills
  first = {**_ids(days['2022-04-01']), **_ids(days['2022-04-02'])}
  assert _urls(days['2022-04-04']['articles']) == ['https://news.example/harvest']
  assert days['2022-04-05']['articles'] == []
  assert sorted(
    (d['url'], d['duplicate_of'], d['duplicate_rule']) for d in days['2022-04-05']['duplicates']
  ) == [
    ('https://news.example/tram?utm_source=rss', first['https://news.example/tram'], 'exact_body'),
    ('https://radio.example/storm', first['https://news.example/storm'], 'near'),
    ('https://wire.example/budget', first['https://news.example/budget'], 'exact_body'),
  ]
  # Within the first range, the earliest day keeps the story.
  assert [(d['url'], d['duplicate_of']) for d in days['2022-04-02']['duplicates']] == [
    ('https://wire.example/storm', first['https://news.example/storm'])
  ]


def test_each_day_indexes_the_articles_it_published(two_backfills):
  _, output, days = two_backfills
  entries = _index(output / '_index')
  assert sorted({os.path.dirname(path) for path in entries}) == [
    'dt=' + day for day in DAYS if days[day]['articles']
  ]
  for day in DAYS:
    ids = sorted(
      json.loads(line)['id']
      for path, lines in entries.items()
      if path.startswith('dt=%s/' % day)
      for line in lines
    )
    assert ids == sorted(a['id'] for a in days[day]['articles'])
    assert all(
      json.loads(line)['run'] == day
      for path, lines in entries.items()
      if path.startswith('dt=%s/' % day)
      for line in lines
    )


def test_every_input_is_in_exactly_one_output_of_its_day(two_backfills):
  _, _, days = two_backfills
  for day, records in RAW.items():
    summary = days[day]['summary']
    assert summary['total'] == len(records), day
    assert summary['outputs'] == {name: len(days[day][name]) for name in OUTPUTS}, day
  written = [r['url'] for day in DAYS for name in OUTPUTS for r in days[day][name] if r.get('url')]
  assert len(written) == len(set(written))
  # A line that is not JSON still names its page in its dead letter.
  named = [r['url'] if isinstance(r, dict) else named_url(r) for rs in RAW.values() for r in rs]
  assert sorted(written) == sorted(url for url in named if url)


def test_rerunning_a_middle_day_gives_the_same_records(two_backfills, tmp_path):
  root, first_output, days = two_backfills
  output = tmp_path / 'clean'
  shutil.copytree(first_output, output)
  entries = _index(output / '_index')
  stale = output / '_index' / 'dt=2022-04-02' / 'run-2022-04-02-00009-of-00010.jsonl'
  stale.write_text(entries[sorted(entries)[0]][0] + '\n')

  # 04-02 alone, after 04-05 was processed: the later days' entries do not
  # make its articles duplicates, its own earlier entries are replaced.
  _backfill(root, output, ['2022-04-02'])
  assert not stale.exists()
  assert _index(output / '_index') == entries
  for day in DAYS:
    assert read_day(output, day) == days[day], day

  # The whole range again, in one run: the same records as the two runs.
  _backfill(root, output, DAYS)
  assert _index(output / '_index') == entries
  for day in DAYS:
    assert read_day(output, day) == days[day], day


def test_an_earlier_day_rerun_with_other_input(two_backfills, tmp_path):
  root, first_output, days = two_backfills
  output, raw = tmp_path / 'clean', tmp_path / 'raw'
  shutil.copytree(first_output, output)
  shutil.copytree(root, raw)
  # 04-02 now holds the harvest story 04-04 published, not the budget story.
  _write_raw(raw, {'2022-04-02': [page('final'), page('harvest')]})
  _backfill(raw, output, ['2022-04-02'])
  rerun = read_day(output, '2022-04-02')
  assert _urls(rerun['articles']) == ['https://news.example/final', 'https://news.example/harvest']
  assert rerun['duplicates'] == []
  # The later days keep what they were given until they are rerun.
  for day in SECOND:
    assert read_day(output, day) == days[day]
  _backfill(raw, output, SECOND)
  harvest = _ids(rerun)['https://news.example/harvest']
  later = {day: read_day(output, day) for day in SECOND}
  assert later['2022-04-04']['articles'] == []
  assert [(d['url'], d['duplicate_of']) for d in later['2022-04-04']['duplicates']] == [
    ('https://news.example/harvest', harvest)
  ]
  assert _urls(later['2022-04-05']['articles']) == ['https://wire.example/budget']
  assert not glob.glob(str(output / '_index' / 'dt=2022-04-04' / '*'))


def test_no_index_compares_the_range_with_itself_only(two_backfills, tmp_path):
  root, _, _ = two_backfills
  output = tmp_path / 'clean'
  _backfill(root, output, SECOND, '--no-index')
  assert not (output / '_index').exists()
  assert _urls(read_day(output, '2022-04-05')['articles']) == [
    'https://news.example/tram?utm_source=rss',
    'https://radio.example/storm',
    'https://wire.example/budget',
  ]


def test_a_range_reads_the_entries_of_earlier_days_only():
  path = 'gs://b/clean/_index/dt=2022-04-02/run-2022-04-02-00000-of-00004.jsonl'
  assert index_file_day(path) == '2022-04-02'
  assert indexed_before(path, '2022-04-03')
  assert not indexed_before(path, '2022-04-02')
  assert not indexed_before(path, '2022-04-01')
  assert not indexed_before('gs://b/_index/run-abc-00000-of-00004.jsonl', '2022-04-03')


def test_later_days_indexed_are_named(tmp_path):
  for day in ('2022-04-01', '2022-04-02'):
    path = tmp_path / ('dt=' + day) / ('run-%s-00001-of-00004.jsonl' % day)
    path.parent.mkdir()
    path.write_text('{}\n')
  assert later_days_indexed(str(tmp_path), '2022-04-01') == ['2022-04-02']
  assert later_days_indexed(str(tmp_path / 'none'), '2022-04-01') == []


def test_index_elsewhere_on_cloud_storage(gcs_bucket):
  raw = {
    '2022-04-01': [page('budget')],
    '2022-04-02': [page('budget', host='wire.example'), page('final')],
  }
  for day, records in raw.items():
    path = 'raw/dt=%s/pages.jsonl' % day
    gcs_bucket.blob(path).upload_from_string(jsonl_bytes(path, records))
  root = 'gs://%s' % gcs_bucket.name
  flags = ['--input-root', root + '/raw', '--output', root + '/clean', '--index', root + '/index']

  def run_day(day):
    backfill.run(['--start', day, '--end', day] + flags)
    return {
      name: [
        json.loads(line)
        for blob in gcs_bucket.list_blobs(prefix='clean/%s/dt=%s/' % (name, day))
        for line in blob.download_as_text().splitlines()
      ]
      for name in ('articles', 'duplicates')
    }

  first = run_day('2022-04-01')
  # what an earlier backfill of 04-02, with more articles, left in the index
  stale = gcs_bucket.blob('index/dt=2022-04-02/run-2022-04-02-00009-of-00010.jsonl')
  stale.upload_from_string(b'{}\n')
  second = run_day('2022-04-02')
  assert [(d['url'], d['duplicate_of']) for d in second['duplicates']] == [
    ('https://wire.example/budget', first['articles'][0]['id'])
  ]
  assert not stale.exists()
  entries = {
    blob.name.split('/')[1]: [
      json.loads(line)['id'] for line in blob.download_as_text().splitlines()
    ]
    for blob in gcs_bucket.list_blobs(prefix='index/')
  }
  assert entries == {
    'dt=2022-04-01': [first['articles'][0]['id']],
    'dt=2022-04-02': [second['articles'][0]['id']],
  }
  assert not list(gcs_bucket.list_blobs(prefix='clean/_index/'))
