"""A rejected record's id is the id its text would have as an article;
where an article, a duplicate or another rejected record holds it, the
rejected one takes a numbered copy id, in the order of the records' JSON."""

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms import schema
from transforms.filters import DistinctRejectedIds, _with_distinct_ids


def rejected(record_id, text):
  return {'id': record_id, 'body': text, 'reason': 'too_short'}


def test_an_id_nobody_else_holds_is_kept():
  record = rejected('x1', 'short')
  assert list(_with_distinct_ids(('x1', [record]))) == [record]


def test_an_id_an_article_holds_is_numbered_from_one():
  a, b = rejected('x1', 'b text'), rejected('x1', 'a text')
  out = list(_with_distinct_ids(('x1', [a, None, b])))
  # Sorted by their JSON ('a text' first), each a copy: the article has the id.
  assert [r['body'] for r in out] == ['a text', 'b text']
  assert [r['id'] for r in out] == [
    schema.copy_id('x1', 1, schema.REJECTED),
    schema.copy_id('x1', 2, schema.REJECTED),
  ]


def test_copies_of_one_rejected_input_are_numbered_after_the_first():
  a, b = rejected('x1', 'same'), rejected('x1', 'same')
  out = list(_with_distinct_ids(('x1', [a, b])))
  assert [r['id'] for r in out] == ['x1', schema.copy_id('x1', 1, schema.REJECTED)]


def test_the_transform_reads_the_ids_of_articles_and_duplicates():
  with TestPipeline() as p:
    articles = p | 'Articles' >> beam.Create([{'id': 'a1', 'body': 'kept'}])
    duplicates = p | 'Duplicates' >> beam.Create([{'id': 'd1', 'body': 'copy'}])
    records = p | 'Rejected' >> beam.Create(
      [rejected('a1', 'no'), rejected('d1', 'no'), rejected('r1', 'no')]
    )
    out = records | DistinctRejectedIds((articles, duplicates)) | beam.Map(lambda r: r['id'])
    assert_that(
      out,
      equal_to(
        [
          schema.copy_id('a1', 1, schema.REJECTED),
          schema.copy_id('d1', 1, schema.REJECTED),
          'r1',
        ]
      ),
    )
