"""Deduplication in streams (state and timers), with TestStream."""

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing import test_stream
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms import window

from transforms import schema
from transforms.dedup.streams import StreamDeduplicate
from transforms.text.urls import canonicalize_url

HOUR = 60 * 60
DAY = 24 * HOUR
FLOOD = ' '.join(
  'River levels in the valley rose %d centimetres overnight and %d homes '
  'near the old bridge were evacuated before dawn.' % (i + 20, i + 4)
  for i in range(8)
)
ELECTION = ' '.join(
  'The mayor said the vote in ward %d would be recounted after %d ballots '
  'were found in a second box at the town hall.' % (i, i + 30)
  for i in range(8)
)


def _article(url, body):
  return schema.with_id(
    schema.new_article(url=url, canonical_url=canonicalize_url(url), body=body, part=0)
  )


def _dedup(config, events, windowed=False):
  stream = test_stream.TestStream()
  for seconds, article in events:
    stream = stream.advance_watermark_to(seconds).add_elements(
      [window.TimestampedValue(article, seconds)]
    )
  stream = stream.advance_watermark_to_infinity()
  options = PipelineOptions(streaming=True)
  p = TestPipeline(options=options)
  articles = p | stream
  if windowed:
    articles = articles | beam.WindowInto(window.FixedWindows(HOUR))
  kept, duplicates, _ = articles | StreamDeduplicate(config['dedup'])
  return p, kept, duplicates


def test_duplicates_across_windows_are_caught(config):
  original = _article('https://valley.example/flood', FLOOD)
  near = _article('https://wire.example/flood', FLOOD.replace('before dawn', 'at dawn', 1))
  exact = _article('https://copy.example/flood', FLOOD.upper())
  relisted = _article('https://valley.example/flood#comments', FLOOD + ' Updated at noon.')
  other = _article('https://town.example/recount', ELECTION)
  p, kept, duplicates = _dedup(
    config,
    [(0, original), (2 * HOUR, near), (5 * HOUR, exact), (9 * HOUR, relisted), (10 * HOUR, other)],
    windowed=True,
  )
  with p:
    assert_that(
      kept | beam.Map(lambda a: (a['id'], a['cluster_size'])),
      equal_to([(original['id'], 1), (other['id'], 1)]),
      label='kept',
    )
    assert_that(
      duplicates | beam.Map(lambda d: (d['id'], d['duplicate_of'], d['duplicate_rule'])),
      equal_to(
        [
          (near['id'], original['id'], 'near'),
          (exact['id'], original['id'], 'exact_body'),
          (relisted['id'], original['id'], 'canonical_url'),
        ]
      ),
      label='duplicates',
    )


def test_a_story_is_published_again_after_the_horizon(config):
  horizon = config['dedup']['stream_horizon_days'] * DAY
  original = _article('https://valley.example/flood', FLOOD)
  near = _article('https://wire.example/flood', FLOOD.replace('before dawn', 'at dawn', 1))
  p, kept, duplicates = _dedup(
    config,
    [
      (0, original),
      (HOUR, near),
      (DAY, original),
      (horizon + 2 * HOUR, original),
      (horizon + 3 * HOUR, near),
    ],
  )
  with p:
    # Within the horizon the copy and the re-listed original are duplicates;
    # once the story is forgotten it is published again, and its copy is a
    # duplicate of the new publication.
    assert_that(
      kept | beam.Map(lambda a: a['id']), equal_to([original['id'], original['id']]), label='kept'
    )
    assert_that(
      duplicates | beam.Map(lambda d: (d['id'], d['duplicate_of'], d['duplicate_rule'])),
      equal_to(
        [
          (near['id'], original['id'], 'near'),
          # The re-listed original: an id of its own, never its duplicate_of.
          (schema.copy_id(original['id'], 1), original['id'], 'exact_body'),
          (near['id'], original['id'], 'near'),
        ]
      ),
      label='duplicates',
    )
