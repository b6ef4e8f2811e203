"""Deduplication in Beam: exact body, canonical URL, near-duplicates."""

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms import schema
from transforms.dedup.batch import Deduplicate
from transforms.dedup.minhash import MinHasher, similarity
from transforms.dedup.rules import resolve_roots

BODY = ' '.join('Word%d appears in this story about the harbour storm.' % i for i in range(40))


def _article(url, body, published=None, part=0):
  return schema.with_id(
    schema.new_article(url=url, canonical_url=url, body=body, published_at=published, part=part)
  )


def test_minhash_similarity_tracks_jaccard(config):
  hasher = MinHasher(128, 5)
  edited = BODY.replace('Word7 ', 'Term7 ')
  assert similarity(hasher.signature(BODY), hasher.signature(BODY)) == 1.0
  assert similarity(hasher.signature(BODY), hasher.signature(edited)) > 0.85
  other = ' '.join('Other%d sentence on a different subject entirely.' % i for i in range(40))
  assert similarity(hasher.signature(BODY), hasher.signature(other)) < 0.1


def test_resolve_roots_follows_chains():
  matches = {'c': ((1,), 'b', 0.9, 'near'), 'b': ((0,), 'a', 0.95, 'near')}
  assert resolve_roots(matches) == {'c': ('a', 0.9, 'near'), 'b': ('a', 0.95, 'near')}


def test_dedup_keeps_earliest_and_marks_the_rest(config):
  original = _article('https://a.example/1', BODY, '2022-04-01T00:00:00Z')
  exact = _article('https://b.example/copy', BODY.upper(), '2022-04-02T00:00:00Z')
  same_url = _article('https://a.example/1', BODY + ' Updated.', '2022-04-03T00:00:00Z')
  near = _article(
    'https://c.example/wire', BODY.replace('Word3 ', 'Term3 '), '2022-04-02T00:00:00Z'
  )
  distinct = _article(
    'https://a.example/2',
    ' '.join('Different%d text about a football final and its goal.' % i for i in range(40)),
  )
  with TestPipeline() as p:
    kept, duplicates, _ = (
      p | beam.Create([original, exact, same_url, near, distinct]) | Deduplicate(config['dedup'])
    )
    assert_that(
      kept | 'KeptIds' >> beam.Map(lambda a: (a['id'], a['cluster_size'])),
      equal_to([(original['id'], 4), (distinct['id'], 1)]),
      label='kept',
    )
    assert_that(
      duplicates
      | beam.Map(
        lambda d: (d['id'], d['duplicate_of'], d['duplicate_rule'], d['similarity'] == 1.0)
      ),
      equal_to(
        [
          (exact['id'], original['id'], 'exact_body', True),
          (same_url['id'], original['id'], 'canonical_url', True),
          (near['id'], original['id'], 'near', False),
        ]
      ),
      label='duplicates',
    )


def test_parts_of_one_page_are_not_url_duplicates(config):
  one = _article('https://a.example/p', BODY, part=0)
  two = _article(
    'https://a.example/p',
    ' '.join('Unrelated%d words about the city budget and rail.' % i for i in range(40)),
    part=1,
  )
  with TestPipeline() as p:
    kept, _, _ = p | beam.Create([one, two]) | Deduplicate(config['dedup'])
    assert_that(kept | beam.Map(lambda a: a['part']), equal_to([0, 1]))


def test_an_input_read_twice_is_kept_once_as_its_better_ranked_copy(config):
  """Two records with one id (the same text under the same URL, listed on
  two days of a backfill): the better-ranked is kept, standing for both and
  for a near copy of it; the other is its exact duplicate."""
  first = schema.with_id(
    schema.new_article(
      url='https://a.example/1',
      canonical_url='https://a.example/1',
      body=BODY,
      title='Listed first',
      published_at='2022-04-01T00:00:00Z',
    )
  )
  again = dict(first, title='Listed again', published_at='2022-04-05T00:00:00Z')
  near = schema.with_id(
    schema.new_article(
      url='https://b.example/wire',
      canonical_url='https://b.example/wire',
      body=BODY.replace('Word3 ', 'Term3 '),
      published_at='2022-04-02T00:00:00Z',
    )
  )
  with TestPipeline() as p:
    kept, duplicates, _ = p | beam.Create([again, near, first]) | Deduplicate(config['dedup'])
    assert_that(
      kept | 'Kept' >> beam.Map(lambda a: (a['title'], a['cluster_size'])),
      equal_to([('Listed first', 3)]),
      label='kept',
    )
    assert_that(
      duplicates
      | 'Dups'
      >> beam.Map(
        lambda d: (d['id'], d['title'], d['duplicate_of'], d['duplicate_rule'], d['cluster_size'])
      ),
      equal_to(
        [
          # The copy gets an id of its own: never its own duplicate_of.
          (schema.copy_id(first['id'], 1), 'Listed again', first['id'], 'exact_body', None),
          (near['id'], None, first['id'], 'near', None),
        ]
      ),
      label='duplicates',
    )
