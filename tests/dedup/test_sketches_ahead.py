"""Dedup's keys of each body worked out ahead, in the worker's pool: the
children give each body the keys dedup would work out itself, dedup takes
them while the body is still the one sketched and works them out again
otherwise, nothing written carries them, and a run finds the same exact and
near copies whether the children or the worker sketch."""

from tests.helpers import (
  CHAPEL_DIG,
  RAIL_CUTS,
  bundle_outputs,
  multi_story_page,
  outputs_with_and_without_pool,
  pooled_stage_outputs,
  story_html,
)
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


def article(url, paragraphs):
  return {'id': url, 'url': url, 'body': schema.join_paragraphs(paragraphs)}


def test_keys_worked_out_ahead_are_taken_while_the_body_is_the_one_sketched(config):
  settings = (config['dedup']['num_perm'], config['dedup']['shingle_words'])
  hasher = MinHasher(*settings)
  story = article('https://news.example/1', RAIL_CUTS)
  [keys] = bodies_keys(*settings, [story['body']])
  assert keys == body_keys_of(story['body'], hasher)
  ahead = dict(story, **{schema.SKETCH_AHEAD: sketched_ahead(story['body'], keys)})
  assert keys_ahead(ahead) == keys
  assert stub_of(ahead, hasher) == stub_of(story, hasher)
  # Keys worked out from another body are not this one's: worked out again.
  other = dict(ahead, body=schema.join_paragraphs(CHAPEL_DIG))
  assert keys_ahead(other) is None
  assert body_keys(other, hasher) == body_keys_of(other['body'], hasher) != keys
  assert article_fingerprint(other) == body_keys_of(other['body'], hasher).fingerprint
  assert keys_ahead(story) is None


def test_the_children_sketch_each_body_as_dedup_would(config):
  extract = dict(config['extract'], processes=2)
  stage = _SketchAheadFn(config['dedup'], extract)
  records = [
    article(
      'https://news.example/%d' % n, (RAIL_CUTS, CHAPEL_DIG, RAIL_CUTS[:2], ['Short.'], [])[n % 5]
    )
    for n in range(40)
  ]
  out, _ = pooled_stage_outputs(stage, records, extract)
  hasher = MinHasher(config['dedup']['num_perm'], config['dedup']['shingle_words'])
  for record, outcome in zip(records, out, strict=True):
    assert outcome == dict(
      record,
      **{schema.SKETCH_AHEAD: sketched_ahead(record['body'], body_keys_of(record['body'], hasher))},
    )


def test_without_the_pool_articles_go_on_unsketched(config):
  stage = _SketchAheadFn(config['dedup'], config['extract'])
  stage.setup()
  record = article('https://news.example/1', RAIL_CUTS)
  out = bundle_outputs(stage, [record])
  stage.teardown()
  assert out == [record]


def test_a_run_finds_the_same_copies_whether_the_children_or_the_worker_sketch(tmp_path):
  near = [p.replace('six months', 'a year') for p in RAIL_CUTS]
  pages = [
    {
      'url': 'https://news.example/rail',
      'html': multi_story_page(story_html('Rail cuts', *RAIL_CUTS)),
    },
    {
      'url': 'https://news.example/dig',
      'html': multi_story_page(story_html('A chapel', *CHAPEL_DIG)),
    },
    {
      'url': 'https://mirror.example/rail',
      'html': multi_story_page(story_html('Rail cuts', *RAIL_CUTS)),
    },
    {'url': 'https://other.example/rail', 'html': multi_story_page(story_html('Rail cuts', *near))},
  ]
  outputs = outputs_with_and_without_pool(tmp_path, pages, '--min-words', '5')
  assert outputs['pool'] == outputs['worker']
  rules = sorted(d['duplicate_rule'] for d in outputs['pool']['duplicates'])
  assert len(outputs['pool']['articles']) == 2 and rules == ['exact_body', 'near']
  for records in outputs['pool'].values():
    for record in records:
      assert schema.SKETCH_AHEAD not in record
