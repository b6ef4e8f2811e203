"""Translation tables classify each character once, and stop growing at
their limit: a text of every code point gets the same translation without
holding a table entry for each."""

import unicodedata

from transforms.language.scripts import script_words
from transforms.text.translation import CharacterTable
from transforms.topics.ngrams import strip_accents


def test_a_table_keeps_at_most_its_limit_and_translates_the_same():
  calls = []

  def upper(ordinal):
    calls.append(ordinal)
    return chr(ordinal).upper()

  table = CharacterTable(upper)
  table.LIMIT = 10
  text = ''.join(chr(c) for c in range(ord('a'), ord('z') + 1))
  assert text.translate(table) == text.upper()
  assert len(table) == 10
  assert text.translate(table) == text.upper()
  assert calls.count(ord('a')) == 1  # kept: classified once
  assert calls.count(ord('z')) == 2  # past the limit: classified each time


def test_the_language_and_topic_tables_are_bounded():
  every = ''.join(chr(c) for c in range(0x20, 0x30000) if not 0xD800 <= c < 0xE000)
  script_words(every)
  strip_accents(every)
  from transforms.language import scripts
  from transforms.topics import ngrams

  assert len(scripts._CODES) <= CharacterTable.LIMIT
  assert len(ngrams._COMBINING_MARKS) <= CharacterTable.LIMIT
  assert strip_accents('e\u0301t\u00e9') == 'ete'
  assert unicodedata.normalize('NFKD', 'é') != strip_accents('é')
