"""A rerun into the same output gives the records a first run of its inputs
would: the index recognises the output's own articles as themselves, never
as duplicates of themselves, and a rerun replaces their entries."""

import glob
import json
import os

from pipelines import ingest
from tests.helpers import distinct_story_pages, read_outputs
from transforms.dedup.index import output_run_key


def _entries(index):
  """{index file name: ids of its entries}."""
  found = {}
  for path in sorted(glob.glob(os.path.join(str(index), 'run-*.jsonl'))):
    with open(path, encoding='utf-8') as f:
      found[os.path.basename(path)] = sorted(json.loads(line)['id'] for line in f)
  return found


def test_a_rerun_with_more_inputs_keeps_the_first_runs_articles(tmp_path):
  # The case: a run on one feed, then a run on all the inputs, into
  # the same output: the first run's stories were filed as duplicates of
  # records the output no longer held.
  some = distinct_story_pages(tmp_path, 'some.jsonl', range(2))
  more = distinct_story_pages(tmp_path, 'more.jsonl', range(2, 5))
  output = tmp_path / 'out'
  ingest.run(['--scraped', some, '--output', str(output)])
  ingest.run(['--scraped', some, '--scraped', more, '--output', str(output)])
  rerun = read_outputs(output, sort=True)

  clean = tmp_path / 'clean'
  ingest.run(['--scraped', some, '--scraped', more, '--output', str(clean)])
  assert rerun == read_outputs(clean, sort=True)
  assert len(rerun['articles']) == 5 and rerun['duplicates'] == []

  # The index holds one entry per published article, under the output's key.
  key = output_run_key(str(output))
  entries = _entries(output / '_index')
  assert all(name.startswith('run-%s-' % key) for name in entries)
  assert sorted(i for ids in entries.values() for i in ids) == sorted(
    a['id'] for a in rerun['articles']
  )


def test_a_rerun_with_fewer_inputs_drops_the_entries_of_what_it_no_longer_publishes(tmp_path):
  some = distinct_story_pages(tmp_path, 'some.jsonl', range(6))
  fewer = distinct_story_pages(tmp_path, 'fewer.jsonl', range(1))
  output = tmp_path / 'out'
  ingest.run(['--scraped', some, '--output', str(output)])
  ingest.run(['--scraped', fewer, '--output', str(output)])
  articles = read_outputs(output, summary=False)['articles']
  assert [i for ids in _entries(output / '_index').values() for i in ids] == [
    a['id'] for a in articles
  ]
  # and a later run into another output sharing the index publishes the
  # stories the first output no longer holds
  other = tmp_path / 'other'
  ingest.run(['--scraped', some, '--output', str(other), '--index', str(output / '_index')])
  out = read_outputs(other, summary=False)
  assert len(out['articles']) == 5
  assert [d['duplicate_of'] for d in out['duplicates']] == [articles[0]['id']]
