"""Backfills from web archives: pages go to the day they say they were
published, else the day they were archived; a page of neither day in the
range is a dead letter; skipped records are counted on their day."""

from pipelines import backfill
from tests.helpers import read_day, story_page, write_warc

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
