"""A paragraph is kept when enough extractors hold it."""

import random

from transforms.text.page import extract_page
from transforms.text.vote import _Kept, voted_paragraphs

STORY = 'The council voted on Monday to extend the tram line to the harbour by spring.'
SECOND = 'Work on the new stops starts in March, the mayor said after the vote.'
MENU = 'Home News Sport Weather Contact us'
THIRD = 'The harbour stop will open last, once the bridge over the canal is widened.'


def test_a_paragraph_three_of_four_extractors_hold_is_kept_and_one_is_not():
  texts = [
    STORY + '\n\n' + MENU,
    STORY + '\n\n' + SECOND,
    STORY + '\n\n' + SECOND,
    SECOND,
  ]
  assert voted_paragraphs(texts, 3, 0.7) == [STORY, SECOND]


def test_a_paragraph_split_otherwise_still_counts_by_its_word_triples():
  texts = [STORY, STORY.upper() + ' ' + SECOND, STORY.replace(',', '')]
  assert voted_paragraphs(texts, 3, 0.7) == [STORY]
  assert voted_paragraphs(texts, 3, 1.0) == [STORY]


def test_paragraphs_of_one_text_alike_each_other_are_all_kept():
  reports = [
    (
      'Ferry report number %d follows the council meeting on the old pier this Tuesday '
      'afternoon in the harbour town.'
    )
    % n
    for n in range(4)
  ]
  texts = ['\n\n'.join(reports)] * 3 + ['']
  assert voted_paragraphs(texts, 3, 0.7) == reports


def test_every_mode_extracts_the_article_of_a_page():
  paragraphs = [STORY, SECOND] * 3
  page = (
    '<html><body><nav><a href="/">Home</a> <a href="/n">News</a></nav><article>'
    + ''.join('<p>%s</p>' % p for p in paragraphs)
    + '</article><footer>Contact us</footer></body></html>'
  )
  for mode in ('fast', 'balanced', 'best'):
    text = extract_page(page, 'https://news.example/a', mode=mode)['text']
    assert STORY in text and SECOND in text, mode
    assert 'Contact us' not in text, mode


def test_two_of_three_keeps_what_one_other_extractor_confirms_and_weights_count():
  texts = [STORY + '\n\n' + MENU, STORY, SECOND + '\n\n' + STORY]
  assert voted_paragraphs(texts, 2, 0.7) == [STORY]
  # trafilatura with two votes: its own paragraphs stand alone at two.
  assert voted_paragraphs(texts, 2, 0.7, [2, 1, 1]) == [STORY, MENU]
  assert voted_paragraphs(texts, 3, 0.7, [2, 1, 1]) == [STORY]


def test_a_paragraph_only_other_extractors_find_goes_where_they_have_it():
  # trafilatura (first) misses the middle paragraph that the two others hold.
  texts = [STORY + '\n\n' + THIRD, '\n\n'.join([STORY, SECOND, THIRD]), SECOND + '\n\n' + THIRD]
  assert voted_paragraphs(texts, 2, 0.7) == [STORY, SECOND, THIRD]
  # Before the paragraph that follows it there, when nothing kept precedes it.
  texts = [SECOND + '\n\n' + THIRD, '\n\n'.join([STORY, SECOND, THIRD]), STORY]
  assert voted_paragraphs(texts, 2, 0.7) == [STORY, SECOND, THIRD]
  # After the last kept paragraph, when none of its neighbours was kept.
  texts = [STORY, MENU + '\n\n' + SECOND, SECOND + '\n\n' + STORY]
  assert voted_paragraphs(texts, 2, 0.7) == [STORY, SECOND]


def test_the_best_match_is_the_kept_paragraph_sharing_most_triples_the_first_on_a_tie():
  # The kept paragraphs find their best match from the triples each holds;
  # checked against comparing a paragraph with every kept one, in order,
  # as paragraphs are inserted anywhere.
  rng = random.Random(3)
  words = ['w%d' % i for i in range(12)]

  def triples():
    return {tuple(rng.choice(words) for _ in range(3)) for _ in range(rng.randrange(1, 9))}

  for _ in range(300):
    kept, order = _Kept(), []
    for step in range(rng.randrange(1, 25)):
      entries = [('p%d.%d' % (step, i), triples()) for i in range(rng.randrange(0, 3))]
      at = rng.randrange(len(order) + 1)
      kept.insert(at, entries)
      order[at:at] = entries
      mine, least = triples(), rng.choice([0.5, 1, 1.5, 2, 3])
      shared = [len(mine & theirs) for _, theirs in order]
      best = max(range(len(order)), key=lambda i: (shared[i], -i), default=None)
      expected = best if best is not None and shared[best] and shared[best] >= least else None
      assert kept.best_match(mine, least) == expected
    assert kept.paragraphs() == [paragraph for paragraph, _ in order]
