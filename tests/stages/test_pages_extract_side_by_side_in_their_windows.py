"""The extraction stage hands a bundle's pages to its pool of children
several at a time: every page's outcome still comes out once, in the page's
own window, and a page over the budget is a dead letter that holds up no
other page."""

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms import window

from configs.loading import load_config
from tests.helpers import distinct_story
from transforms.extract import ExtractArticles

HOUR = 3600


def news_page(n):
  paragraphs = [distinct_story(100 * n + i, 40) for i in range(4)]
  return (
    '<html><head><title>Story %d</title></head><body><nav>Home</nav><article><h1>Story %d</h1>'
    '%s</article><footer>Contact</footer></body></html>'
    % (n, n, ''.join('<p>%s</p>' % p for p in paragraphs))
  )


def extracted(p, pages, **settings):
  """{output: PCollection of (url, its window's start in hours)} of the
  pages, each (record, hour), through the stage with `settings`."""
  config = dict(load_config()['extract'], **settings)
  outputs = (
    p
    | beam.Create(pages)
    | beam.Map(lambda pair: window.TimestampedValue(pair[0], pair[1] * HOUR + 1))
    | beam.WindowInto(window.FixedWindows(HOUR))
    | ExtractArticles(config)
  )
  return {
    name: outputs[name]
    | name.title()
    >> beam.Map(lambda record, w=beam.DoFn.WindowParam: (record['url'], int(w.start) // HOUR))
    for name in ('articles', 'rejected', 'dead_letter')
  }


def test_every_page_comes_out_once_in_its_own_window():
  pages = [({'url': 'https://news.example/%d' % n, 'html': news_page(n)}, n) for n in range(12)]
  pages.append(({'url': 'https://news.example/empty', 'html': '<html><body></body></html>'}, 20))
  with TestPipeline() as p:
    found = extracted(p, pages, processes=2)
    assert_that(
      found['articles'],
      equal_to([('https://news.example/%d' % n, n) for n in range(12)]),
      label='articles in their windows',
    )
    assert_that(found['rejected'], equal_to([('https://news.example/empty', 20)]), label='no text')
    assert_that(found['dead_letter'], equal_to([]), label='no dead letters')


def test_a_page_over_the_budget_is_a_dead_letter_and_the_others_come_out():
  slow = '<html><body><article>%s</article></body></html>' % ''.join(
    '<p>%s</p>' % distinct_story(n, 40) for n in range(1000)
  )
  pages = [({'url': 'https://news.example/%d' % n, 'text': distinct_story(n)}, n) for n in range(6)]
  pages.insert(2, ({'url': 'https://slow.example/', 'html': slow, 'raw': 'x'}, 7))
  with TestPipeline() as p:
    found = extracted(p, pages, processes=2, timeout_seconds=0.01)
    assert_that(
      found['articles'],
      equal_to([('https://news.example/%d' % n, n) for n in range(6)]),
      label='the quick pages',
    )
    assert_that(
      found['dead_letter'], equal_to([('https://slow.example/', 7)]), label='the slow page'
    )
