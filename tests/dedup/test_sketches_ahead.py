"""Dedup's keys of each body worked out ahead, in the worker's pool: the
children give each body the keys dedup would work out itself, dedup takes
them while the body is still the one sketched and works them out again
otherwise, nothing written carries them, and a run finds the same exact and
near copies whether the children or the worker sketch."""

from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import PaneInfo, PaneInfoTiming

from pipelines import ingest
from tests.helpers import multi_story_page, read_outputs, story_html, write_jsonl
from transforms import schema
from transforms.dedup.ahead import _SketchAheadFn
from transforms.dedup.minhash import MinHasher
from transforms.dedup.rules import (
  article_fingerprint,
  bodies_keys,
  body_keys,
  body_keys_of,
  keys_ahead,
  sketched_ahead,
  stub_of,
)
from transforms.worker_pool import worker_pool

PANE = PaneInfo(True, True, PaneInfoTiming.ON_TIME, 0, 0)

STORY = [
  'The regional rail operator will cut the number of evening trains on the '
  'coast line from next month, its director told councillors on Tuesday.',
  'She said that fewer than forty passengers a night used the last three '
  'services, and that the savings would pay for new carriages.',
  'Councillors from the three towns on the line said the cuts would leave '
  "shift workers at the port with no way home after ten o'clock.",
  'The operator has promised to review the timetable after six months and '
  'to publish the passenger counts for every station on the line.',
]
OTHER = [
  'Archaeologists working on the site of the new library have found the '
  'foundations of a medieval chapel under the old car park.',
  'The city museum will show the finds in the spring, once they have been '
  'cleaned and dated by the university laboratory.',
]


def article(url, paragraphs):
  return {'id': url, 'url': url, 'body': schema.join_paragraphs(paragraphs)}


def test_keys_worked_out_ahead_are_taken_while_the_body_is_the_one_sketched(config):
  settings = (config['dedup']['num_perm'], config['dedup']['shingle_words'])
  hasher = MinHasher(*settings)
  story = article('https://news.example/1', STORY)
  [keys] = bodies_keys(*settings, [story['body']])
  assert keys == body_keys_of(story['body'], hasher)
  ahead = dict(story, **{schema.SKETCH_AHEAD: sketched_ahead(story['body'], keys)})
  assert keys_ahead(ahead) == keys
  assert stub_of(ahead, hasher) == stub_of(story, hasher)
  # Keys worked out from another body are not this one's: worked out again.
  other = dict(ahead, body=schema.join_paragraphs(OTHER))
  assert keys_ahead(other) is None
  assert body_keys(other, hasher) == body_keys_of(other['body'], hasher) != keys
  assert article_fingerprint(other) == body_keys_of(other['body'], hasher).fingerprint
  assert keys_ahead(story) is None


def test_the_children_sketch_each_body_as_dedup_would(config):
  extract = dict(config['extract'], processes=2)
  stage = _SketchAheadFn(config['dedup'], extract)
  stage.setup()
  pool = worker_pool(extract)
  records = [
    article('https://news.example/%d' % n, (STORY, OTHER, STORY[:2], ['Short.'], [])[n % 5])
    for n in range(40)
  ]
  try:
    pool(len, 'start a child')  # as extraction does on its first page
    stage.start_bundle()
    out = []
    for record in records:
      out += list(stage.process(record, 0, GlobalWindow(), PANE))
    out += list(stage.finish_bundle())
  finally:
    stage.teardown()
    pool.release()
  hasher = MinHasher(config['dedup']['num_perm'], config['dedup']['shingle_words'])
  for record, outcome in zip(records, [o.value for o in out], strict=True):
    assert outcome == dict(
      record,
      **{schema.SKETCH_AHEAD: sketched_ahead(record['body'], body_keys_of(record['body'], hasher))},
    )


def test_without_the_pool_articles_go_on_unsketched(config):
  stage = _SketchAheadFn(config['dedup'], config['extract'])
  stage.setup()
  stage.start_bundle()
  record = article('https://news.example/1', STORY)
  out = list(stage.process(record, 0, GlobalWindow(), PANE)) + list(stage.finish_bundle())
  stage.teardown()
  assert out == [record]


def test_a_run_finds_the_same_copies_whether_the_children_or_the_worker_sketch(tmp_path):
  near = STORY[:3] + [STORY[3].replace('six months', 'a year')]
  pages = [
    {'url': 'https://news.example/rail', 'html': multi_story_page(story_html('Rail cuts', *STORY))},
    {'url': 'https://news.example/dig', 'html': multi_story_page(story_html('A chapel', *OTHER))},
    {
      'url': 'https://mirror.example/rail',
      'html': multi_story_page(story_html('Rail cuts', *STORY)),
    },
    {'url': 'https://other.example/rail', 'html': multi_story_page(story_html('Rail cuts', *near))},
  ]
  scraped = tmp_path / 'pages.jsonl'
  write_jsonl(scraped, pages)
  no_pool = tmp_path / 'no-pool.yaml'
  no_pool.write_text('extract:\n  timeout_seconds: 0\n')
  outputs = {}
  for name, flags in (('pool', []), ('worker', ['--config', str(no_pool)])):
    out = tmp_path / name
    ingest.run(['--scraped', str(scraped), '--output', str(out), '--min-words', '5'] + flags)
    outputs[name] = read_outputs(out, sort=True, summary=False)
  assert outputs['pool'] == outputs['worker']
  rules = sorted(d['duplicate_rule'] for d in outputs['pool']['duplicates'])
  assert len(outputs['pool']['articles']) == 2 and rules == ['exact_body', 'near']
  for records in outputs['pool'].values():
    for record in records:
      assert schema.SKETCH_AHEAD not in record
