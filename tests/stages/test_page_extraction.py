"""One page, one parse, one call: the printed lead put back, stories of a
multi-story page extracted in the same call (also through the time budget),
and a headline repeated under its page title's section label cut."""

import pytest

from configs.loading import ConfigError, load_config
from tests.helpers import BRIDGE, TRAM, multi_story_page, story_html
from transforms.extract import build_article, build_articles
from transforms.text.budget import TimeBudget
from transforms.text.cleaning import ArticleCleaner
from transforms.text.page import extract_page, latest_publication_day
from transforms.worker_pool import WARM_UP

LEAD = (
  'The city council approved a new flood barrier for the old harbour '
  'on Monday, after two winters of damage to homes along the quay.'
)
STORY = [
  'Work on the barrier starts in March and should end before the autumn '
  'storms, the council said in a statement after the vote.',
  'The barrier will cost 14 million euros, shared between the city and the '
  'regional government, which agreed to pay two thirds of the cost.',
  'Residents of the quay had asked for protection since the floods of 2021 '
  'damaged more than 200 homes and closed the harbour for a week.',
]


def lead_page(description=LEAD, printed='<p class="intro">%s</p>' % LEAD):
  """A news page whose lead is printed above the story's container, as news
  sites print their standfirst."""
  return (
    '<html><head><title>Flood barrier approved | Harbour News</title>'
    '<meta name="description" content="%s"></head><body>'
    '<nav><a href="/">Home</a> <a href="/city">City</a></nav>'
    '<header><h1>Flood barrier approved</h1>%s</header>'
    '<main><article><h1>Flood barrier approved</h1>%s</article></main>'
    '<footer>Contact us</footer></body></html>'
    % (description, printed, ''.join('<p>%s</p>' % p for p in STORY))
  )


@pytest.fixture(scope='module')
def config():
  return load_config()


def extract(html, config):
  [record] = build_articles(
    {'url': 'https://harbour.example/barrier', 'html': html}, config['extract']
  )
  return record


def test_printed_lead_missed_by_main_text_is_put_back_before_the_story(config):
  record = extract(lead_page(), config)
  paragraphs = record['body'].split('\n\n')
  assert paragraphs.count(LEAD) == 1
  assert paragraphs.index(LEAD) < paragraphs.index(STORY[0])
  assert 'Contact us' not in record['body']


def test_lead_goes_after_the_headline_so_the_headline_is_still_cut(config):
  record = extract(lead_page(), config)
  [story] = ArticleCleaner(config['clean']).clean(record)
  assert story['body'].split('\n\n')[0] == LEAD
  assert story['title'] == 'Flood barrier approved'


def test_lead_cut_short_in_the_description_is_put_back_whole(config):
  record = extract(lead_page(description=LEAD[:70] + '...'), config)
  assert LEAD in record['body'].split('\n\n')


def test_script_in_the_lead_element_stays_out(config):
  record = extract(
    lead_page(
      description=LEAD[:70] + '...', printed='<p>%s<script>var tracking = 1;</script></p>' % LEAD
    ),
    config,
  )
  assert LEAD in record['body'].split('\n\n')
  assert 'tracking' not in record['body']


def test_container_starting_with_a_cut_description_is_not_a_lead(config):
  longer = ' '.join(STORY)
  record = extract(
    lead_page(description=LEAD[:70] + '...', printed='<div>%s %s</div>' % (LEAD[:70], longer)),
    config,
  )
  assert LEAD[:70] not in record['body']


def test_description_not_printed_on_the_page_is_not_added(config):
  record = extract(lead_page(printed=''), config)
  assert LEAD not in record['body']
  assert record['summary'] == LEAD  # it stays the summary


def test_description_printed_only_as_a_link_is_not_a_lead(config):
  record = extract(lead_page(printed='<a href="/barrier">%s</a>' % LEAD), config)
  assert LEAD not in record['body']


def test_short_description_is_not_a_lead(config):
  short = 'Flood barrier for the harbour'
  record = extract(lead_page(description=short, printed='<p class="intro">%s</p>' % short), config)
  assert short not in record['body']


def test_lead_is_off_at_zero(config):
  off = dict(config['extract'], lead_min_words=0)
  [record] = build_articles({'url': 'https://harbour.example/barrier', 'html': lead_page()}, off)
  assert LEAD not in record['body']


def test_lead_min_words_is_validated(tmp_path):
  path = tmp_path / 'bad.yaml'
  path.write_text('extract:\n  lead_min_words: -1\n')
  with pytest.raises(ConfigError, match='extract.lead_min_words'):
    load_config(str(path))


def two_story_page():
  return multi_story_page(
    story_html('Tram line reaches the hospital', TRAM, TRAM.replace('Monday', 'Tuesday')),
    story_html('Bridge closed for repairs', BRIDGE, BRIDGE.replace('six', 'eight')),
  )


def test_a_page_and_its_stories_take_one_extraction_call(config):
  calls = []

  def counted(*args):
    calls.append(args[1])
    return extract_page(*args)

  records = build_articles(
    {'url': 'https://city.example/today', 'html': two_story_page()}, config['extract'], counted
  )
  assert len(records) == 2 and calls == ['https://city.example/today']


def test_stories_come_back_through_the_time_budget(config):
  budget = TimeBudget(30, extract_page, warm_up=WARM_UP)
  try:
    records = build_articles(
      {'url': 'https://city.example/today', 'html': two_story_page()}, config['extract'], budget
    )
  finally:
    budget.close()
  assert [(r['title'], r['part']) for r in records] == [
    ('Tram line reaches the hospital', 0),
    ('Bridge closed for repairs', 1),
  ]
  assert 'bridge' in records[1]['body'] and 'hospital' not in records[1]['body']


def test_page_that_is_not_html_gives_no_text():
  article = build_article({'url': 'https://a.example/', 'html': '\x00\x01'})
  assert article['body'] == ''


HEADLINE = 'Is football violence a crime?'
OPINION = (
  '<html><head><meta property="og:title" content="Opinion | %s">'
  '</head><body><article><h1>%s</h1>%s</article></body></html>'
  % (HEADLINE, HEADLINE, ''.join('<p>%s</p>' % p for p in STORY))
)


def test_headline_under_a_section_label_in_the_title_is_cut(config):
  record = extract(OPINION, config)
  [story] = ArticleCleaner(config['clean']).clean(record)
  assert HEADLINE not in story['body']
  assert story['title'] == 'Opinion | ' + HEADLINE
  assert [r['text'] for r in story['removed']] == [HEADLINE]


def _dated_page(day):
  return (
    '<html><head><title>Harbour ferry timetable changes</title>'
    '<meta property="article:published_time" content="%sT08:00:00Z">'
    '</head><body><article><h1>Harbour ferry timetable changes</h1>'
    '<p>%s</p><p>%s</p></article></body></html>' % (day, TRAM, TRAM.replace('Monday', 'Tuesday'))
  )


def test_publication_date_is_bounded_by_the_fetch_time_not_the_run_date(config):
  # A date after today's run is accepted when the page was fetched after it:
  # the same record gives the same date whenever it is processed.
  later = build_articles(
    {
      'url': 'https://city.example/ferry',
      'html': _dated_page('2031-05-01'),
      'fetched_at': '2031-05-01T12:00:00Z',
    },
    config['extract'],
  )
  assert later[0]['published_at'].startswith('2031-05-01')
  # A date after the fetch is not the page's publication date.
  earlier = build_articles(
    {
      'url': 'https://city.example/ferry',
      'html': _dated_page('2031-05-01'),
      'fetched_at': '2030-01-01T12:00:00Z',
    },
    config['extract'],
  )
  assert not (earlier[0]['published_at'] or '').startswith('2031')
  assert latest_publication_day('2031-05-01T23:30:00Z') == '2031-05-02'
  assert latest_publication_day(None) is None
