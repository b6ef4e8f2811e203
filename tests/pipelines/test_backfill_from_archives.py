"""Backfills from web archives: pages go to the day they say they were
published, as extraction reads it (once per page), else the day they were
archived; a page of neither day in the range is a dead letter; skipped
records are counted on their day."""

from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline

from configs.loading import load_config
from pipelines import backfill
from tests.helpers import read_day, story, story_page, write_warc

HTML = {'Content-Type': 'text/html; charset=utf-8'}


def test_archived_pages_go_to_their_publication_day(tmp_path):
  archive = tmp_path / 'crawl.warc.gz'
  write_warc(
    archive,
    [
      # Published on the 1st, archived on the 2nd: the 1st.
      (
        'response',
        'https://news.example/tram',
        {
          'headers': HTML,
          'body': story_page('tram', published='2024-03-01T08:00:00Z'),
          'date': '2024-03-02T10:00:00Z',
        },
      ),
      # No date of its own: the day it was archived.
      (
        'response',
        'https://news.example/storm',
        {'headers': HTML, 'body': story_page('storm'), 'date': '2024-03-02T11:00:00Z'},
      ),
      # Published and archived before the range: a dead letter.
      (
        'response',
        'https://news.example/final',
        {
          'headers': HTML,
          'body': story_page('final', published='2024-01-05T08:00:00Z'),
          'date': '2024-02-10T11:00:00Z',
        },
      ),
      ('request', 'https://news.example/storm', {'date': '2024-03-02T11:00:00Z'}),
    ],
  )
  output = tmp_path / 'out'
  days = backfill.run(
    ['--start', '2024-03-01', '--end', '2024-03-02', '--warc', str(archive)]
    + ['--output', str(output), '--no-index']
  )
  assert days == ['2024-03-01', '2024-03-02']
  first, second = read_day(output, '2024-03-01'), read_day(output, '2024-03-02')
  assert [r['url'] for r in first['articles']] == ['https://news.example/tram']
  assert [r['url'] for r in second['articles']] == ['https://news.example/storm']
  dead = first['dead_letter']
  assert [(r['url'], r['stage']) for r in dead] == [('https://news.example/final', 'read_warc')]
  assert dead[0]['error'].startswith('outside_range')
  # The warcinfo record carries the day the file was written, after the
  # range: it is counted on the range's last day.
  assert second['summary']['skipped'] == {'request': 1, 'warcinfo': 1}
  assert 'skipped' not in first['summary']


def _page(name: str, head: str) -> bytes:
  return (
    '<html><head>%s<title>%s</title></head><body><article><h1>%s</h1><p>%s</p></article>'
    '</body></html>' % (head, name.title(), name.title(), story(name))
  ).encode()


# Published on the 1st, as the extractor reads it; archived on the 2nd. A
# pattern over the page's head finds no date, or a wrong one, in each.
DATED_BY_EXTRACTION = {
  # The meta element's attributes the other way round.
  'tram': '<meta content="2024-03-01T08:00:00Z" property="article:published_time">',
  # A date meta element by another name.
  'storm': '<meta name="date" content="2024-03-01">',
  # The site's JSON-LD names an older story's date before the page's own.
  'budget': '<script type="application/ld+json">{"@type": "WebSite", "hasPart": '
  '{"@type": "NewsArticle", "datePublished": "2023-11-02"}}</script>'
  '<meta property="article:published_time" content="2024-03-01T09:00:00Z">',
}


def test_an_archived_page_goes_to_the_day_extraction_reads_once(tmp_path):
  archive = tmp_path / 'crawl.warc.gz'
  write_warc(
    archive,
    [
      (
        'response',
        'https://news.example/%s' % name,
        {'headers': HTML, 'body': _page(name, head), 'date': '2024-03-02T10:00:00Z'},
      )
      for name, head in DATED_BY_EXTRACTION.items()
    ],
  )
  output = tmp_path / 'out'
  config = load_config()
  days = ['2024-03-01', '2024-03-02']
  pipeline = TestPipeline()
  backfill.build_backfill(
    pipeline, config, days, None, str(output), 20, warc=[str(archive)], index=None
  )
  result = pipeline.run()
  result.wait_until_finish()
  first, second = read_day(output, days[0]), read_day(output, days[1])
  assert sorted(r['url'].rsplit('/', 1)[1] for r in first['articles']) == sorted(
    DATED_BY_EXTRACTION
  )
  assert second['articles'] == [] and first['dead_letter'] == second['dead_letter'] == []
  # Each page is extracted once: dating it reads what extraction found.
  extracted = result.metrics().query(MetricsFilter().with_namespace('extract'))['counters']
  assert sum(c.committed for c in extracted if c.key.metric.name == 'extracted') == 3
