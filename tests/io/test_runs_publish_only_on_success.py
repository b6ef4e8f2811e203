"""A run publishes its outputs only when it succeeds, all at once: a run that
reads nothing fails and leaves the previous outputs as they were; a publish
cut short at any of its steps is finished by the next run."""

import json
import os

import pytest

from pipelines import ingest
from tests.helpers import (
  distinct_story_pages,
  files_under,
  read_outputs,
)
from transforms.io import publish as publishing
from transforms.io import sinks


@pytest.fixture
def published(tmp_path):
  """An output holding the records of a first run, and its files."""
  output = tmp_path / 'out'
  ingest.run(
    ['--scraped', distinct_story_pages(tmp_path, 'first.jsonl', range(3)), '--output', str(output)]
  )
  return output, files_under(output)


def test_a_typo_in_the_only_input_fails_and_leaves_the_last_output(published, tmp_path):
  output, before = published
  with pytest.raises(SystemExit) as failed:
    ingest.run(['--scraped', str(tmp_path / 'scrapd' / '*.jsonl'), '--output', str(output)])
  message = str(failed.value)
  assert message.startswith('newsbeam: nothing readable in the inputs')
  assert 'no files match' in message and str(output) in message
  assert files_under(output) == before
  assert not (output / '_staging').exists()


def test_every_feed_unreachable_fails(published, http_server):
  output, before = published
  http_server.routes['/rss'] = (503, {}, b'down for maintenance')
  with pytest.raises(SystemExit, match='nothing readable in the inputs'):
    ingest.run(
      ['--feeds', http_server.url('/rss'), '--allow-private-hosts', '--output', str(output)]
    )
  assert files_under(output) == before


def test_an_input_with_nothing_but_unreadable_lines_fails(published, tmp_path):
  output, before = published
  broken = tmp_path / 'broken.jsonl'
  broken.write_text('{not json\n[1, 2]\n')
  with pytest.raises(SystemExit, match=r'read_scraped: invalid JSON \(1\)'):
    ingest.run(['--scraped', str(broken), '--output', str(output)])
  assert files_under(output) == before


def test_a_partly_missing_input_stays_a_dead_letter(tmp_path):
  output = tmp_path / 'out'
  missing = str(tmp_path / 'missing' / '*.jsonl')
  pages = distinct_story_pages(tmp_path, 'pages.jsonl', range(2))
  ingest.run(['--scraped', pages, '--scraped', missing, '--output', str(output)])
  out = read_outputs(output)
  assert len(out['articles']) == 2
  assert [(d['stage'], d['error']) for d in out['dead_letter']] == [
    ('read_scraped', 'no files match: %s' % missing)
  ]


def test_nothing_readable_is_told_from_a_run_with_pages():
  # feeds answering 304 Not Modified: read, and nothing new in them
  assert not sinks.nothing_readable(sinks.build_summary([]))
  summary = sinks.build_summary(
    [(('outputs', 'dead_letter'), 2), (('dead_letter_stages', 'read_feed'), 2)]
  )
  assert sinks.nothing_readable(summary)
  # a page was read, and failed later: the run has something to publish
  summary = sinks.build_summary(
    [(('outputs', 'dead_letter'), 1), (('dead_letter_stages', 'extract'), 1)]
  )
  assert not sinks.nothing_readable(summary)
  summary = sinks.build_summary([(('outputs', 'rejected'), 1)])
  assert not sinks.nothing_readable(summary)


def _index_ids(output):
  folder = output / '_index'
  return sorted(
    json.loads(line)['id'] for name in os.listdir(folder) for line in open(folder / name)
  )


def _stop_before_publishing(monkeypatch):
  """The publishing step writes its manifest and stops there, as a run
  killed at that moment would."""
  manifests = []
  monkeypatch.setattr(sinks, 'publish', manifests.append)
  return manifests


def test_a_publish_cut_short_at_any_step_is_finished_by_the_next_run(
  published, tmp_path, monkeypatch
):
  output, before = published
  second = distinct_story_pages(tmp_path, 'second.jsonl', range(2, 6))
  clean = tmp_path / 'clean'
  ingest.run(['--scraped', second, '--output', str(clean)])
  expected = read_outputs(clean, sort=True)

  manifests = _stop_before_publishing(monkeypatch)
  ingest.run(['--scraped', second, '--output', str(output)])
  monkeypatch.undo()
  # Nothing was published: the staged run is invisible.
  visible = {k: v for k, v in files_under(output).items() if '_staging' not in k.split(os.sep)}
  assert visible == before
  [manifest] = manifests
  with open(manifest, encoding='utf-8') as f:
    operations = json.load(f)['operations']
  assert [op[0] for op in operations].count('rename') >= 4 + 1 + 2  # parts, index, summary, report
  staged = files_under(output)
  # Killed after each step of the publish in turn (the files as that step
  # left them), then finished by the next run into the output.
  for done in range(len(operations) + 1):
    trial = tmp_path / ('trial-%d' % done)
    trial.mkdir()
    for relative, data in staged.items():
      os.makedirs(os.path.dirname(trial / relative), exist_ok=True)
      (trial / relative).write_bytes(data)
    moved = str(trial)
    for operation in operations[:done]:
      publishing.carry_out([str(p).replace(str(output), moved) for p in operation])
    retargeted = json.loads(open(trial / os.path.relpath(manifest, output)).read())
    retargeted = json.dumps(retargeted).replace(str(output), moved)
    (trial / os.path.relpath(manifest, output)).write_text(retargeted)
    finished = publishing.finish_earlier_runs(moved, str(trial / '_index'))
    assert len(finished['rolled_forward']) == 1
    assert read_outputs(trial, sort=True) == expected, 'cut after %d steps' % done
    assert not (trial / '_staging').exists()
    assert _index_ids(trial) == _index_ids(clean)


def test_what_a_failed_run_staged_is_removed_by_the_next(published, tmp_path):
  output, before = published
  token = 'a-run-killed-while-writing'
  leftovers = [
    publishing.staging_folder(str(output), token, 'articles', 'x.jsonl'),
    publishing.staging_folder(str(output / '_index'), token, 'run-x-00000-of-00004.jsonl'),
  ]
  for path in leftovers:
    os.makedirs(os.path.dirname(path))
    with open(path, 'w') as f:
      f.write('{}\n')
  assert publishing.finish_earlier_runs(str(output), str(output / '_index')) == {
    'rolled_forward': [],
    'removed': [token],
  }
  assert files_under(output) == before
