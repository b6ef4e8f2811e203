"""One test per deduplication rule: canonical URL, exact body, near and
contained copies, site boilerplate, and the keep rule."""

import random

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.helpers import CHAPEL_DIG, RAIL_CUTS
from transforms import schema
from transforms.dedup.batch import Deduplicate
from transforms.dedup.minhash import (
  MinHasher,
  NearDuplicateTest,
  mod_mersenne,
  running_text,
  similarity,
)
from transforms.dedup.rules import Sketch, body_fingerprint, keep_rank, url_key
from transforms.text.urls import canonicalize_url

MENU = [
  'Home | News | Sport | Business | Opinion | Culture | Weather | Travel',
  'Sign in | Subscribe | Newsletters | Podcasts',
]
FOOTER = [
  'About us | Careers | Advertise with us | Corrections | Contact',
  'Valley Courier, 12 Market Street, Valley Town',
]


SIDEBAR = [
  'Most read: council to %s %s near %s' % (verb, topic, place)
  for verb in ('review', 'fund')
  for place in (
    'Valley Town',
    'the harbour',
    'North Ward',
    'the old mill',
    'Riverside',
    'the airport',
  )
  for topic in (
    'parking charges',
    'a new school',
    'bus routes',
    'flood defences',
    'the market hall',
  )
]


def _sketch(hasher, paragraphs, rid='x'):
  signature, count = hasher.sketch(schema.join_paragraphs(paragraphs))
  return Sketch((1,), rid, signature.tobytes(), count)


@pytest.fixture(scope='module')
def near(config):
  dedup = config['dedup']
  return (
    MinHasher(dedup['num_perm'], dedup['shingle_words']),
    NearDuplicateTest(dedup['threshold'], dedup['containment']),
  )


@pytest.mark.parametrize(
  'variant',
  [
    'https://news.example/rail/cuts?utm_source=rss&utm_medium=feed',
    'https://news.example/rail/cuts?utm_campaign=spring',
    'https://news.example/rail/cuts?fbclid=IwAR0abc',
    'https://news.example/rail/cuts?gclid=Cj0KCQ',
    'http://news.example/rail/cuts',
    'HTTPS://NEWS.Example/rail/cuts',
    'https://www.news.example/rail/cuts',
    'https://news.example:443/rail/cuts',
    'https://news.example/rail/cuts/',
    'https://news.example/rail/cuts#comments',
  ],
)
def test_url_variants_share_the_canonical_key(variant):
  article = {'canonical_url': canonicalize_url(variant), 'part': 0}
  plain = {'canonical_url': canonicalize_url('https://news.example/rail/cuts'), 'part': 0}
  assert url_key(article) == url_key(plain)


def test_url_key_keeps_what_names_another_page():
  def key(url, part=0):
    return url_key({'canonical_url': canonicalize_url(url), 'part': part})

  assert key('https://news.example/a?id=1&page=2') == key(
    'https://news.example/a?page=2&id=1&utm_source=x'
  )
  assert key('https://news.example/a?id=1') != key('https://news.example/a?id=2')
  assert key('https://news.example/a') != key('https://news.example/b')
  assert key('https://news.example/a') != key('https://news.example/a', part=1)


def test_exact_body_ignores_case_punctuation_and_spacing():
  body = schema.join_paragraphs(RAIL_CUTS)
  assert body_fingerprint(body) == body_fingerprint(
    '  ' + body.upper().replace(',', '').replace(' ', '   ')
  )
  assert body_fingerprint(body) != body_fingerprint(body.replace('forty', 'fifty'))


def test_copy_with_edits_and_another_sites_menus_is_near(near):
  hasher, is_duplicate = near
  edited = [p.replace('Tuesday', 'Monday').replace('nurse', 'midwife') for p in RAIL_CUTS]
  verdict = is_duplicate(_sketch(hasher, RAIL_CUTS), _sketch(hasher, MENU + edited + FOOTER))
  assert verdict and verdict[0] == 'near'


def test_story_cut_short_is_contained(near):
  hasher, is_duplicate = near
  verdict = is_duplicate(_sketch(hasher, RAIL_CUTS), _sketch(hasher, RAIL_CUTS[:4]))
  assert verdict and verdict[0] == 'contained'


def test_stories_sharing_a_sites_menus_are_not_merged(near):
  hasher, is_duplicate = near
  # Short stories under the site's long menus and link lists: on their own,
  # these would be most of each page's text.
  one = MENU + RAIL_CUTS[:1] + SIDEBAR + FOOTER
  two = MENU + CHAPEL_DIG[:1] + SIDEBAR + FOOTER
  assert running_text(schema.join_paragraphs(one)) == RAIL_CUTS[:1]
  sketches = _sketch(hasher, one), _sketch(hasher, two)
  assert similarity(sketches[0].values(), sketches[1].values()) < 0.2
  assert is_duplicate(*sketches) is None


def test_body_without_sentences_is_fingerprinted_whole():
  lines = ['Results: Valley 2 Harbour 1', 'Scorers: Lind 12, Okafor 80']
  assert running_text(schema.join_paragraphs(lines)) == lines


def _article(url, paragraphs, published=None):
  return schema.with_id(
    schema.new_article(
      url=url,
      canonical_url=canonicalize_url(url),
      body=schema.join_paragraphs(paragraphs),
      published_at=published,
    )
  )


def test_keep_rule_is_earliest_then_longest_then_smallest_id(config):
  early = _article('https://a.example/rail', RAIL_CUTS[:5], '2024-03-01T08:00:00Z')
  longer = _article('https://b.example/rail', RAIL_CUTS, '2024-03-01T09:00:00Z')
  undated = _article('https://c.example/rail', RAIL_CUTS + ['Extra line.'])
  assert sorted([undated, longer, early], key=keep_rank)[0] is early
  twins = [_article('https://%s.example/rail' % h, RAIL_CUTS, '2024-03-01T09:00:00Z') for h in 'de']
  assert sorted(twins, key=keep_rank)[0]['id'] == min(t['id'] for t in twins)
  inputs = [early, longer, undated] + twins
  for seed in (1, 2):
    shuffled = inputs[:]
    random.Random(seed).shuffle(shuffled)
    with TestPipeline() as p:
      kept, duplicates, _ = p | beam.Create(shuffled) | Deduplicate(config['dedup'])
      assert_that(
        kept | beam.Map(lambda a: (a['id'], a['cluster_size'])),
        equal_to([(early['id'], 5)]),
        label='kept',
      )
      assert_that(
        duplicates | beam.Map(lambda d: d['duplicate_of']),
        equal_to([early['id']] * 4),
        label='duplicates',
      )


def test_distinct_stories_of_one_site_stay_apart_in_beam(config):
  one = _article('https://valley.example/rail', MENU + RAIL_CUTS[:1] + SIDEBAR + FOOTER)
  two = _article('https://valley.example/chapel', MENU + CHAPEL_DIG[:1] + SIDEBAR + FOOTER)
  with TestPipeline() as p:
    kept, duplicates, _ = p | beam.Create([one, two]) | Deduplicate(config['dedup'])
    assert_that(kept | beam.Map(lambda a: a['id']), equal_to([one['id'], two['id']]), label='kept')
    assert_that(duplicates, equal_to([]), label='duplicates')


def test_the_mersenne_modulus_is_numpys_own_on_every_uint64():
  # The sketch's a*x + b, and the edges: around the modulus, its multiples
  # and the largest uint64.
  rng = np.random.RandomState(7)
  a = rng.randint(1, 1 << 31, size=(16, 1), dtype=np.uint64)
  b = rng.randint(0, 1 << 31, size=(16, 1), dtype=np.uint64)
  x = rng.randint(0, 1 << 32, size=(1, 2000), dtype=np.uint64)
  p = (1 << 61) - 1
  edges = [0, 1, p - 1, p, p + 1, 2 * p - 1, 2 * p, 2 * p + 1, 7 * p + 6, 8 * p, (1 << 64) - 1]
  for values in (
    a * x + b,
    np.array(edges, dtype=np.uint64),
    rng.randint(0, 1 << 63, 5000, np.uint64) * 2,
  ):
    assert np.array_equal(mod_mersenne(values.copy()), values % np.uint64(p))
