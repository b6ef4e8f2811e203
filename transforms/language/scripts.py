"""Unicode scripts: which script a text is written in, by letters and by
words, and the word shapes (capitals, quotations) the fragment checks read.
Deterministic, and no model needed."""

import functools
import re
import unicodedata
from collections import Counter
from typing import List, Optional

from transforms.text.translation import CharacterTable

# Scripts by the first word of a character's Unicode name, and the language
# assumed for a fragment in that script when langdetect cannot say.
_SCRIPT_NAMES = {
  'LATIN': 'Latin',
  'CYRILLIC': 'Cyrillic',
  'GREEK': 'Greek',
  'ARABIC': 'Arabic',
  'HEBREW': 'Hebrew',
  'DEVANAGARI': 'Devanagari',
  'BENGALI': 'Bengali',
  'GURMUKHI': 'Gurmukhi',
  'GUJARATI': 'Gujarati',
  'TAMIL': 'Tamil',
  'TELUGU': 'Telugu',
  'KANNADA': 'Kannada',
  'MALAYALAM': 'Malayalam',
  'THAI': 'Thai',
  'LAO': 'Lao',
  'GEORGIAN': 'Georgian',
  'ARMENIAN': 'Armenian',
  'HANGUL': 'Hangul',
  'HIRAGANA': 'Kana',
  'KATAKANA': 'Kana',
  'CJK': 'Han',
  'ETHIOPIC': 'Ethiopic',
  'KHMER': 'Khmer',
  'MYANMAR': 'Myanmar',
  'SINHALA': 'Sinhala',
  'TIBETAN': 'Tibetan',
  'ORIYA': 'Oriya',
  'SYRIAC': 'Syriac',
  'THAANA': 'Thaana',
  'MONGOLIAN': 'Mongolian',
}
SCRIPT_LANGUAGE = {
  'Cyrillic': 'ru',
  'Greek': 'el',
  'Arabic': 'ar',
  'Hebrew': 'he',
  'Devanagari': 'hi',
  'Bengali': 'bn',
  'Gurmukhi': 'pa',
  'Gujarati': 'gu',
  'Tamil': 'ta',
  'Telugu': 'te',
  'Kannada': 'kn',
  'Malayalam': 'ml',
  'Thai': 'th',
  'Lao': 'lo',
  'Georgian': 'ka',
  'Armenian': 'hy',
  'Hangul': 'ko',
  'Kana': 'ja',
  'Han': 'zh',
  'Ethiopic': 'am',
  'Khmer': 'km',
  'Myanmar': 'my',
  'Sinhala': 'si',
  'Tibetan': 'bo',
  'Oriya': 'or',
  'Syriac': 'syr',
  'Thaana': 'dv',
  'Mongolian': 'mn',
  'Latin': 'en',
}
# The script each language code is written in, for the codes langdetect knows
# that are not in the Latin script (used to trust its answer on a fragment).
SCRIPT_LANGUAGE_SCRIPT = {
  'ar': 'Arabic',
  'fa': 'Arabic',
  'ur': 'Arabic',
  'ru': 'Cyrillic',
  'uk': 'Cyrillic',
  'bg': 'Cyrillic',
  'mk': 'Cyrillic',
  'el': 'Greek',
  'he': 'Hebrew',
  'hi': 'Devanagari',
  'mr': 'Devanagari',
  'ne': 'Devanagari',
  'bn': 'Bengali',
  'pa': 'Gurmukhi',
  'gu': 'Gujarati',
  'ta': 'Tamil',
  'te': 'Telugu',
  'kn': 'Kannada',
  'ml': 'Malayalam',
  'th': 'Thai',
  'ko': 'Hangul',
  'ja': 'Kana',
  'zh': 'Han',
}


@functools.lru_cache(maxsize=65536)
def char_script(char: str) -> Optional[str]:
  """The script of a letter, or None for anything that is not a letter."""
  if not char.isalpha():
    return None
  name = unicodedata.name(char, '')
  return _SCRIPT_NAMES.get(name.split(' ', 1)[0], 'Other')


_ASCII_LETTER_RUNS = re.compile('[A-Za-z]+')
_NON_ASCII_RUNS = re.compile('[^\x00-\x7f]+')


def script_letters(text: str) -> Counter:
  """Letters per script, with the vowel signs and accents written on them
  (Indic scripts write many vowels as combining marks)."""
  counts = Counter()
  latin = sum(map(len, _ASCII_LETTER_RUNS.findall(text)))
  if latin:
    counts['Latin'] = latin
  # Most news text is ASCII: only the other characters are looked up.
  for run in _NON_ASCII_RUNS.finditer(text):
    start = run.start()
    previous = 'Latin' if start and text[start - 1].isalpha() else None
    for char in run.group():
      script = char_script(char)
      if script is None and previous and unicodedata.category(char).startswith('M'):
        script = previous
      if script:
        counts[script] += 1
      previous = script
  return counts


# Scripts written without spaces between words: each character counts as a
# word when scripts are weighed against each other.
_UNSPACED_SCRIPTS = frozenset(('Han', 'Kana', 'Thai', 'Lao', 'Khmer', 'Myanmar', 'Tibetan'))


# Each script as one character, for the translation table below.
_SCRIPT_CODES = {
  script: chr(0x100 + i) for i, script in enumerate(sorted({*_SCRIPT_NAMES.values(), 'Other'}))
}
_CODE_SCRIPTS = {code: script for script, code in _SCRIPT_CODES.items()}


def _script_code(ordinal: int) -> str:
  """A character's script's code, '' for a combining mark (it belongs to
  the letter before it) and a space for anything else that is not a
  letter."""
  char = chr(ordinal)
  if unicodedata.category(char).startswith('M'):
    return ''
  script = char_script(char)
  return ' ' if script is None else _SCRIPT_CODES[script]


_CODES = CharacterTable(_script_code)
_CODE_RUNS = re.compile(r'([^ ])\1*')


def script_words(text: str) -> Counter:
  """Words per script, as a reader sees them: a run of letters (and their
  vowel signs and accents) of a spaced script is one word, each character of
  an unspaced script (Chinese, Japanese, Thai, ...) one. Counting letters
  would let a Latin brand name outweigh the Japanese sentence around it.
  Scripts come in the order they first appear."""
  counts = Counter()
  if text.isascii():  # most news text: only runs of ASCII letters to count
    runs = len(_ASCII_LETTER_RUNS.findall(text))
    if runs:
      counts['Latin'] = runs
    return counts
  # Each letter as its script's code, marks dropped, the rest spaces: a run
  # of one code is a word of that script.
  codes = text.translate(_CODES)
  for code, runs in Counter(_CODE_RUNS.findall(codes)).items():
    script = _CODE_SCRIPTS[code]
    counts[script] = codes.count(code) if script in _UNSPACED_SCRIPTS else runs
  return counts


def dominant_script(text: str) -> Optional[str]:
  """The script most of a text's letters are in."""
  counts = script_letters(text)
  if not counts:
    return None
  # Japanese mixes Kana and Han: one writing system for this purpose.
  if counts.get('Kana') and counts.get('Han'):
    counts['Kana'] += counts.pop('Han')
  return counts.most_common(1)[0][0]


def same_writing_system(a: Optional[str], b: Optional[str]) -> bool:
  cjk = {'Han', 'Kana'}
  return a == b or (a in cjk and b in cjk)


QUOTATION_MARKS = frozenset('"\'«»‹›„‚“”‘’「『')


def letter_words(text: str) -> List[str]:
  """The words of a text that hold a letter (not numbers, bars or dashes)."""
  return [w for w in text.split() if w.isalpha() or any(c.isalpha() for c in w)]


def capitalized_share(words: List[str]) -> float:
  """The share of words starting with a capital letter."""
  if not words:
    return 0.0
  upper = 0
  for word in words:
    first = word[:1]
    if not first.isalpha():  # most words open with their first letter
      first = next((c for c in word if c.isalpha()), '')
    upper += first.isupper()
  return upper / len(words)
