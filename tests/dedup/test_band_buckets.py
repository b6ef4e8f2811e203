"""Near-duplicate candidates: the sketches go to the band shuffle in
batches, one element per band and shard a batch reaches, and each bucket's
members meet whichever batch they came in."""

import itertools
import random

import apache_beam as beam
import numpy as np
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms import schema
from transforms.dedup.batch import BAND_BATCH, Deduplicate, _BucketPairsFn, band_rows
from transforms.dedup.rules import SIGNATURE_DTYPE, Sketch, published_earlier, sketch_order

BANDS, ROWS = 8, 4


def sketches(count, seed):
  """Sketches whose bands often share rows with an earlier sketch's (each
  band copied from one of the first few sketches a third of the time), some
  of them published by an earlier run."""
  rng = random.Random(seed)
  made = []
  for i in range(count):
    values = np.array([rng.randrange(2**32) for _ in range(BANDS * ROWS)], dtype=SIGNATURE_DTYPE)
    for band in range(BANDS):
      if made and rng.random() < 0.33:
        source = made[rng.randrange(min(len(made), 6))].values()
        values[band * ROWS : (band + 1) * ROWS] = source[band * ROWS : (band + 1) * ROWS]
    rank = ('2022-04-%02d' % rng.randrange(1, 28), -rng.randrange(100), 'id%03d' % i)
    order = sketch_order(rank, earlier_run=rng.random() < 0.1)
    made.append(Sketch(order, 'id%03d' % i, values.tobytes(), 50))
  return made


def pairs_by_definition(all_sketches, max_bucket):
  """Each record with every better-ranked record sharing one band's rows
  (among the first `max_bucket` of that bucket), never a record an earlier
  run published as the candidate."""
  found = set()
  for band in range(BANDS):
    buckets = {}
    for sketch in all_sketches:
      rows = tuple(sketch.values()[band * ROWS : (band + 1) * ROWS])
      buckets.setdefault(rows, set()).add((sketch.order, sketch.id))
    for members in buckets.values():
      members = sorted(members)[:max_bucket]
      for (kept_order, kept_id), (order, candidate_id) in itertools.combinations(members, 2):
        if not published_earlier(order):
          found.add(((candidate_id, kept_id), kept_order))
  return found


def pairs_through_batches(all_sketches, batch_size, max_bucket):
  """What the band shuffle gives for the sketches sent in batches of
  `batch_size`, grouped by (band, shard) as a GroupByKey would."""
  grouped = {}
  keyed = [(s.id, s) for s in all_sketches]
  for start in range(0, len(keyed), batch_size):
    for key, rows in band_rows(keyed[start : start + batch_size], BANDS):
      grouped.setdefault(key, []).append(rows)
  fn = _BucketPairsFn(max_bucket)
  return [pair for item in grouped.items() for pair in fn.process(item)]


def test_candidate_pairs_do_not_depend_on_the_batches():
  all_sketches = sketches(120, seed=7)
  expected = pairs_by_definition(all_sketches, max_bucket=1000)
  assert len(expected) > 100  # the sketches do share buckets
  for batch_size in (1, 7, 50, 120):
    found = pairs_through_batches(all_sketches, batch_size, max_bucket=1000)
    assert set(found) == expected, batch_size
  # A hot bucket is cut to its first records by rank, in every batching.
  assert set(pairs_through_batches(all_sketches, 13, max_bucket=3)) == pairs_by_definition(
    all_sketches, max_bucket=3
  )


def test_a_batch_sends_one_element_per_band_and_shard_it_reaches():
  keyed = [(s.id, s) for s in sketches(300, seed=3)]
  elements = band_rows(keyed, BANDS)
  assert len(elements) < len(keyed) * BANDS / 2
  assert len({key for key, _ in elements}) == len(elements)
  assert sum(len(rows) for _, rows in elements) == len(keyed) * BANDS


def test_a_near_duplicate_is_found_across_batches(config):
  body = ' '.join('Word%d appears in this story about the harbour storm.' % i for i in range(40))

  def article(i, text):
    url = 'https://a.example/%d' % i
    return schema.with_id(
      schema.new_article(url=url, canonical_url=url, body=text, published_at='2022-04-01')
    )

  original = article(0, body)
  others = [
    article(i, ' '.join('Story%d line %d on another subject entirely.' % (i, j) for j in range(30)))
    for i in range(1, BAND_BATCH + 20)
  ]
  near = article(BAND_BATCH + 50, body.replace('Word3 ', 'Term3 '))
  with TestPipeline() as p:
    _, duplicates, _ = (
      p | beam.Create([original, *others, near], reshuffle=False) | Deduplicate(config['dedup'])
    )
    assert_that(
      duplicates | beam.Map(lambda d: (d['id'], d['duplicate_of'], d['duplicate_rule'])),
      equal_to([(near['id'], original['id'], 'near')]),
    )
