"""The script and word counts the fragment checks read, and the comparable
form of a text, each against a plain character-by-character reading of its
definition: the fast paths (ASCII text, a translation table of scripts)
give the same counts, in the same order, on every kind of text."""

import random
import re
import unicodedata
from collections import Counter

import pytest

from transforms.language.scripts import (
  capitalized_share,
  char_script,
  letter_words,
  script_words,
)
from transforms.text.page import comparable

_UNSPACED = {'Han', 'Kana', 'Thai', 'Lao', 'Khmer', 'Myanmar', 'Tibetan'}


def plain_script_words(text):
  """Words per script, one character at a time: a combining mark belongs
  to the letter before it, anything else that is not a letter ends a word,
  and each character of an unspaced script is a word."""
  counts = Counter()
  for token in text.split():
    previous = None
    for char in token:
      if unicodedata.category(char).startswith('M'):
        continue
      script = char_script(char)
      if script and (script != previous or script in _UNSPACED):
        counts[script] += 1
      previous = script
  return counts


def plain_capitalized_share(words):
  if not words:
    return 0.0
  return sum(1 for w in words if next((c for c in w if c.isalpha()), '').isupper()) / len(words)


def plain_comparable(text):
  if not text:
    return ''
  return ' '.join(re.findall(r'[^\W_]+', unicodedata.normalize('NFKC', text).casefold()))


# Letters of spaced and unspaced scripts, combining marks (an acute accent,
# a Devanagari vowel sign), digits, punctuation, an underscore, and spaces
# Python splits on (no-break space, the information separators).
PIECES = (
  'ab',
  'Zé',
  'e\u0301',
  '\u0416\u0436',
  '\u0915\u093e',
  '\u0627\u0644',
  '\u4e2d\u6587',
  '\u3072\u30ab',
  '\u0e01\u0e32',
  '\u10d0',
  '\u1200',
  'ß',
  '\u00bd',
  '\u2160',
  '42',
  '-',
  '_',
  "'",
  '.',
  '\u200d',
  ' ',
  '\n',
  '\u00a0',
  '\x1c',
  '\u3000',
)

TEXTS = [
  '',
  'The council met on Tuesday.',
  'Laisser un commentaire',
  'Über 40 Prozent der Befragten',
  'Совет соберётся во вторник',
  'नमूना पाठ यहाँ है',
  '东京 Tokyo 2020 オリンピック',
  'نموذج الاتصال',
  'ภาษาไทย Thai',
  'e\u0301te\u0301 \u0301alone',
  'abc ЖЖЖ',
  'ЖЖЖ abc',
]


def _generated(seed, count):
  rnd = random.Random(seed)
  return [''.join(rnd.choice(PIECES) for _ in range(rnd.randint(0, 12))) for _ in range(count)]


@pytest.mark.parametrize('texts', [TEXTS, _generated(7, 5000)], ids=['examples', 'generated'])
def test_script_words_are_a_plain_reading_in_order(texts):
  for text in texts:
    assert list(script_words(text).items()) == list(plain_script_words(text).items()), text


@pytest.mark.parametrize('texts', [TEXTS, _generated(8, 2000)], ids=['examples', 'generated'])
def test_letter_words_and_capitals_are_a_plain_reading(texts):
  for text in texts:
    words = letter_words(text)
    assert words == [w for w in text.split() if any(c.isalpha() for c in w)], text
    assert capitalized_share(words) == plain_capitalized_share(words), text
    assert capitalized_share(text.split()) == plain_capitalized_share(text.split()), text


def test_comparable_ascii_is_the_unicode_reading():
  every_ascii = ''.join(chr(i) for i in range(128))
  assert comparable(every_ascii) == plain_comparable(every_ascii)
  rnd = random.Random(9)
  for _ in range(2000):
    text = ''.join(rnd.choice(every_ascii) for _ in range(rnd.randint(0, 30)))
    assert comparable(text) == plain_comparable(text)


@pytest.mark.parametrize('texts', [TEXTS, _generated(10, 2000)], ids=['examples', 'generated'])
def test_comparable_is_the_unicode_reading(texts):
  for text in texts:
    assert comparable(text) == plain_comparable(text), text
