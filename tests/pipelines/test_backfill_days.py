"""Backfills: date-partitioned input and output, dedup across the days of a
range, and reruns that replace a day's partitions without leftovers."""

import contextlib
import shutil

import pytest

from pipelines import backfill
from tests.helpers import OUTPUTS, page, read_day, write_jsonl

DAYS = ('2022-04-01', '2022-04-02', '2022-04-03')


def _raw(root):
  for day in DAYS:
    (root / ('dt=' + day)).mkdir(parents=True)
  # The tram story is listed on day 1 (without a date) and again on day 2
  # (dated): the earliest day keeps it, whatever the publication times.
  write_jsonl(root / 'dt=2022-04-01' / 'pages.jsonl', [page('tram'), page('storm')])
  write_jsonl(
    root / 'dt=2022-04-02' / 'pages.jsonl.gz',
    [
      page('tram', published_at='2022-03-31T08:00:00Z'),
      page('final'),
      '{"url": "https://bad.example/broken"',
    ],
  )
  write_jsonl(
    root / 'dt=2022-04-03' / 'pages.jsonl',
    [page('budget'), {'url': 'https://brief.example/x', 'text': 'Short.'}],
  )


def _backfill(root, output, start=DAYS[0], end=DAYS[-1]):
  return backfill.run(
    ['--start', start, '--end', end, '--input-root', str(root), '--output', str(output)]
  )


@pytest.fixture(scope='module')
def first_run(tmp_path_factory):
  root = tmp_path_factory.mktemp('raw')
  output = tmp_path_factory.mktemp('clean')
  _raw(root)
  assert _backfill(root, output) == list(DAYS)
  return root, output, {day: read_day(output, day) for day in DAYS}


def test_each_day_has_its_partitions_and_summary(first_run):
  _, _, days = first_run
  urls = {
    day: {name: sorted(r['url'] for r in days[day][name]) for name in OUTPUTS} for day in DAYS
  }
  assert urls['2022-04-01']['articles'] == [
    'https://news.example/storm',
    'https://news.example/tram',
  ]
  assert urls['2022-04-02']['articles'] == ['https://news.example/final']
  assert urls['2022-04-02']['dead_letter'] == ['https://bad.example/broken']
  assert urls['2022-04-03']['articles'] == ['https://news.example/budget']
  assert urls['2022-04-03']['rejected'] == ['https://brief.example/x']
  for day in DAYS:
    summary = days[day]['summary']
    assert summary['outputs'] == {name: len(days[day][name]) for name in OUTPUTS}
    for name in OUTPUTS:
      assert all('partition_date' not in r for r in days[day][name])


def test_an_article_listed_again_is_a_duplicate_on_the_later_day(first_run):
  _, _, days = first_run
  kept = [a for a in days['2022-04-01']['articles'] if a['url'] == 'https://news.example/tram']
  assert len(kept) == 1 and kept[0]['published_at'] is None
  # cluster_size counts the inputs of the kept article's own day: a day's
  # records do not depend on the days after it (a day rerun alone gives the
  # same records).
  assert kept[0]['cluster_size'] == 1
  again = days['2022-04-02']['duplicates']
  assert [(d['url'], d['duplicate_of'], d['duplicate_rule']) for d in again] == [
    ('https://news.example/tram', kept[0]['id'], 'exact_body')
  ]
  assert days['2022-04-01']['duplicates'] == []


def test_rerun_replaces_the_days_partitions_without_leftovers(first_run, tmp_path):
  root, first_output, days = first_run
  output = tmp_path / 'clean'
  shutil.copytree(first_output, output)
  stale = output / 'articles' / 'dt=2022-04-02' / 'part-00003-of-00004.jsonl'
  stale.write_text('{"id": "stale"}\n')
  other_day = output / 'articles' / 'dt=2022-03-31' / 'part-00000-of-00001.jsonl'
  other_day.parent.mkdir()
  other_day.write_text('{"id": "earlier backfill"}\n')

  _backfill(root, output)
  assert not stale.exists()
  assert other_day.exists()
  for day in DAYS:
    assert read_day(output, day) == days[day]

  # One day alone: its partitions are replaced, the others left as they are.
  (root / 'dt=2022-04-03' / 'pages.jsonl').unlink()
  write_jsonl(root / 'dt=2022-04-03' / 'pages.jsonl', [page('museum')])
  _backfill(root, output, start='2022-04-03', end='2022-04-03')
  rerun = read_day(output, '2022-04-03')
  assert [a['url'] for a in rerun['articles']] == ['https://news.example/museum']
  assert rerun['rejected'] == [] and rerun['summary']['total'] == 1
  for day in DAYS[:2]:
    assert read_day(output, day) == days[day]


def test_bad_range_is_a_clear_error(tmp_path):
  with pytest.raises(SystemExit, match='before start'):
    _backfill(tmp_path, tmp_path / 'out', start='2022-04-03', end='2022-04-01')


def test_backfill_prints_each_day_and_says_when_it_had_input(tmp_path, capsys):
  (tmp_path / 'raw' / 'dt=2022-04-03').mkdir(parents=True)
  write_jsonl(
    tmp_path / 'raw' / 'dt=2022-04-03' / 'pages.jsonl',
    [page('budget'), {'url': 'https://brief.example/x', 'text': 'Short.'}],
  )
  _backfill(tmp_path / 'raw', tmp_path / 'out', start='2022-04-03', end='2022-04-04')
  printed = capsys.readouterr().out.splitlines()
  assert printed[-3:] == [
    'newsbeam backfill: 2 days under %s' % (tmp_path / 'out'),
    '  dt=2022-04-03: articles 1  duplicates 0  rejected 1  dead_letter 0',
    '  dt=2022-04-04: articles 0  duplicates 0  rejected 0  dead_letter 1  (no input)',
  ]


def test_backfill_of_days_without_input_says_so(tmp_path, capsys):
  (tmp_path / 'raw').mkdir()
  # Whether such a run also fails is the run's to decide: the days are
  # printed either way.
  with contextlib.suppress(SystemExit):
    _backfill(tmp_path / 'raw', tmp_path / 'out', start='2022-04-01', end='2022-04-02')
  printed = capsys.readouterr().out
  assert (
    '  dt=2022-04-01: articles 0  duplicates 0  rejected 0  dead_letter 1  (no input)' in printed
  )
  assert '  dt=2022-04-02: articles 0' in printed
  assert 'no day had any input: is --input-root right?' in printed
