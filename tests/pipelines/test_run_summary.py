"""The summary printed at the end of a run names why inputs failed (the
dead letters' reasons), not only the stage where they failed."""

from pipelines.ingest import format_summary

SUMMARY = {
  'total': 12,
  'outputs': {'articles': 7, 'duplicates': 2, 'rejected': 1, 'dead_letter': 2},
  'languages': {'en': 7},
  'dead_letter_stages': {'read_scraped': 2},
  'dead_letter_reasons': {'read_scraped: no files match': 1, 'read_scraped: invalid JSON': 1},
}


def test_summary_names_the_reasons_of_dead_letters():
  printed = format_summary(SUMMARY, 'out').splitlines()
  assert printed[0] == 'newsbeam: 12 records under out'
  assert '  dead_letter_stages: read_scraped 2' in printed
  assert printed[-1] == (
    '  dead_letter_reasons: read_scraped: no files match 1; read_scraped: invalid JSON 1'
  )


def test_many_reasons_are_cut_to_the_first_with_a_count_of_the_rest():
  reasons = {'read_feed: error %d' % n: 20 - n for n in range(11)}
  printed = format_summary(dict(SUMMARY, dead_letter_reasons=reasons), 'out').splitlines()
  assert printed[-1].endswith('read_feed: error 7 13; 3 more in summary.json')
  assert format_summary(dict(SUMMARY, dead_letter_reasons={}), 'out').count('reasons') == 0
