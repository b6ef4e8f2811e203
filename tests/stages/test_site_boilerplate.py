"""Site boilerplate learned over a run, on pages of our own making: the
per-record logic directly, and the stage with TestPipeline."""

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms import schema
from transforms.boilerplate import CutSiteBoilerplate
from transforms.text.boilerplate import SiteBoilerplate, normalized_line, page_lines

FOOTER = '\u00a9 2022 Harbour Times. Harbour Times is published in Port Lewin.'
MENU = 'Home News Sport Weather Harbour Life'
CONFIG = {'min_pages': 3, 'min_share': 0.3, 'max_cut_share': 0.5}

STORIES = [
  'The ferry to the islands will run twice a day from Monday, the port '
  'authority said, after a winter of single crossings.',
  'Fishermen landed the largest herring catch in a decade this week, and '
  'prices at the harbour market fell by a third.',
  'The lifeboat crew rescued two walkers cut off by the tide below the cliffs on Saturday evening.',
  'A new bakery opened on the quay, the first shop to open there since the '
  'fish processing plant closed.',
]
# One story repeats its own line, again and again: never the site's template.
CHORUS = 'Port Lewin will not forget.'


def _page(n, story, *extra, domain='harbourtimes.example'):
  return schema.new_article(
    url='https://%s/%d' % (domain, n),
    domain=domain,
    body='\n\n'.join((MENU, story, story.replace('the', 'a')) + extra + (FOOTER,)),
  )


def _pages():
  pages = [_page(n, story) for n, story in enumerate(STORIES[:3])]
  pages.append(_page(3, STORIES[3], CHORUS, CHORUS, CHORUS, CHORUS))
  # Another site prints the same footer once: it learns nothing from it.
  pages.append(_page(4, STORIES[0], domain='other.example'))
  return pages


def _expected():
  out = []
  for page in _pages():
    if page['domain'] == 'harbourtimes.example':
      blocks = [b for b in schema.paragraphs(page['body']) if b not in (MENU, FOOTER)]
    else:
      blocks = schema.paragraphs(page['body'])
    out.append(schema.join_paragraphs(blocks))
  return sorted(out)


def test_lines_are_normalized_and_counted_once_per_page():
  assert normalized_line('\u00a9 2021 Harbour  Times.') == normalized_line('© 2023 harbour times')
  page = _page(3, STORIES[3], CHORUS, CHORUS, CHORUS)
  assert len(page_lines(page)) == 5  # menu, story, variant, chorus, footer


def test_stage_cuts_lines_repeated_across_a_sites_pages():
  with TestPipeline() as p:
    out = p | beam.Create(_pages()) | CutSiteBoilerplate(CONFIG)
    assert_that(out.articles | 'Bodies' >> beam.Map(lambda r: r['body']), equal_to(_expected()))
    assert_that(
      out.articles
      | 'Rules'
      >> beam.FlatMap(lambda r: [(f['reason'], f['rule'], f['text']) for f in r['removed']]),
      equal_to(
        [('boilerplate', 'site_repeated', MENU)] * 4
        + [('boilerplate', 'site_repeated', FOOTER)] * 4
      ),
      label='CutLines',
    )
    assert_that(out.dead_letter, equal_to([]), label='NoDeadLetters')


def test_line_repeated_inside_one_article_is_not_cut():
  pages = _pages()
  counts = {}
  domains = {}
  for page in pages:
    domains[page['domain']] = domains.get(page['domain'], 0) + 1
    for line in page_lines(page):
      key = (page['domain'], line)
      counts[key] = counts.get(key, 0) + 1
  site = SiteBoilerplate.from_counts(counts, domains, CONFIG)
  cut = site.cut(pages[3])
  assert cut['body'].count(CHORUS) == 4
  assert MENU not in cut['body'] and FOOTER not in cut['body']


def test_line_on_too_few_pages_or_too_small_a_share_is_kept():
  pages = _pages()[:2]  # the footer is on two pages only
  site = SiteBoilerplate.from_counts(
    {('harbourtimes.example', normalized_line(FOOTER)): 2}, {'harbourtimes.example': 2}, CONFIG
  )
  assert site.cut(pages[0]) == pages[0]
  rare = SiteBoilerplate.from_counts(
    {('harbourtimes.example', normalized_line(FOOTER)): 3}, {'harbourtimes.example': 20}, CONFIG
  )
  assert rare.cut(pages[0]) == pages[0]


def test_copies_of_one_story_are_left_to_dedup():
  copy = schema.new_article(
    url='https://harbourtimes.example/c',
    domain='harbourtimes.example',
    body='\n\n'.join(STORIES[:2]),
  )
  site = SiteBoilerplate.from_counts(
    {('harbourtimes.example', normalized_line(s)): 3 for s in STORIES[:2]},
    {'harbourtimes.example': 3},
    CONFIG,
  )
  assert site.cut(copy) == copy
