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
    margin, for the languages `short_fragment_languages` allows (with
    `main`, one in another language is cut when fastText names the same
    language with `short_fragment_fast_min_probability`). Nothing is
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

import json
from typing import Any, Dict, List, Optional, Tuple

from transforms import schema
from transforms.language.backends import BACKENDS, FAST_DETECTORS
from transforms.language.scripts import (
  QUOTATION_MARKS,
  SCRIPT_LANGUAGE,
  SCRIPT_LANGUAGE_SCRIPT,
  capitalized_share,
  dominant_script,
  letter_words,
  same_writing_system,
  script_words,
)


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
    self._short_fast_min = config['short_fragment_fast_min_probability']

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
    if block.lstrip()[:1] in QUOTATION_MARKS or len(block) < self._fragment_min_chars:
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
    if not same_writing_system(script, body_script) and count / total >= self._foreign_share:
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
      if self._short_fragment_languages == 'none':
        return None
      # With `main`, full models are loaded for the main languages and the
      # documents' only: memory stays bounded whatever the fast mode guesses.
      # Another language needs a second model's word: fastText, trained
      # apart, naming the same language.
      if self._short_fragment_languages == 'main' and candidate not in self._main_languages:
        return candidate if self._fast_confirms(text, candidate) else None
      share = self._backend.share_against(block, language, candidate)
      if share is None or share > self._fragment_max_share:
        return None
    return candidate

  def _fast_confirms(self, text: str, candidate: str) -> bool:
    """Whether fastText reads `text` as `candidate` with at least
    `short_fragment_fast_min_probability` (never without fastText, or with
    the setting null)."""
    if self._fast is None or self._short_fast_min is None:
      return False
    code, probability = self._fast.top(text)
    return code == candidate and probability >= self._short_fast_min

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
        if code is None or not same_writing_system(
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


# The fields of a record the language stage reads and the ones it sets.
LABEL_READS = ('body', 'removed')
LABEL_SETS = ('body', 'removed', 'language', 'language_score')

# This process's detectors, by their configuration: one per process, loaded
# on first use (lingua loads each language's models as texts need them).
_DETECTORS: Dict[str, LanguageDetector] = {}


def labelled_fields(config: Dict[str, Any], article: Dict[str, Any]) -> Dict[str, Any]:
  """``LanguageDetector(config).label(article)``'s fields LABEL_SETS, with
  this process's detector for `config`: what a child of the worker's pool
  sends back, given LABEL_READS of the record only."""
  key = json.dumps(config, sort_keys=True)
  detector = _DETECTORS.get(key)
  if detector is None:
    detector = _DETECTORS.setdefault(key, LanguageDetector(config))
  labelled = detector.label(article)
  return {field: labelled[field] for field in LABEL_SETS}
