"""An --output or --index that cannot be written is a clear error before
anything runs, not a traceback."""

import os

import pytest

from pipelines import backfill, ingest
from transforms.io.publish import unusable_location


def test_an_output_that_is_an_existing_file(tmp_path):
  existing = tmp_path / 'notes.txt'
  existing.write_text('keep me\n')
  with pytest.raises(SystemExit) as failed:
    ingest.run(['--scraped', str(tmp_path / '*.jsonl'), '--output', str(existing)])
  assert str(failed.value) == 'newsbeam: --output %s: is an existing file, not a folder' % existing
  assert existing.read_text() == 'keep me\n'


def test_an_output_under_a_file(tmp_path):
  existing = tmp_path / 'notes.txt'
  existing.write_text('')
  with pytest.raises(SystemExit, match='notes.txt is a file, not a folder'):
    backfill.run(
      ['--start', '2022-04-01', '--end', '2022-04-01', '--input-root', str(tmp_path)]
      + ['--output', str(existing / 'clean')]
    )


def test_an_invalid_bucket_name(tmp_path, offline):
  with pytest.raises(SystemExit, match="not a valid Cloud Storage bucket name: 'B'"):
    ingest.run(['--scraped', 'gs://my-bucket/raw/*.jsonl', '--output', 'gs://B/clean'])
  with pytest.raises(SystemExit, match="--index gs://x/index: not a valid Cloud Storage"):
    ingest.run(['--output', str(tmp_path / 'out'), '--index', 'gs://x/index'])
  assert offline == []


@pytest.mark.skipif(os.geteuid() == 0, reason='root writes anywhere')
def test_a_folder_without_write_permission(tmp_path):
  locked = tmp_path / 'locked'
  locked.mkdir(mode=0o500)
  assert unusable_location(str(locked / 'out')) == 'cannot write in %s' % locked


def test_usable_locations():
  for location in ('gs://my-bucket/clean', 'gs://my_bucket.example.com/a/b/', 'out/new/folder'):
    assert unusable_location(location) is None
