"""fastText first, the backend (lingua) where fastText is not sure: the
document's label and the screening of paragraphs. Texts of our own making."""

import collections

import pytest

from tests.helpers import ENGLISH
from transforms import schema
from transforms.language.backends import FAST_DETECTORS
from transforms.language.detector import LanguageDetector

INDONESIAN = (
  'Pemerintah daerah menyetujui rencana perluasan jalur kereta menuju rumah '
  'sakit baru pada hari Senin. Proyek tersebut sudah dibahas selama lebih '
  'dari sepuluh tahun, kata wali kota kepada para wartawan.'
)
FRENCH = (
  'Le conseil municipal a voté lundi la prolongation de la ligne de tramway '
  "jusqu'au nouvel hôpital, un projet discuté depuis plus de dix ans. Les "
  'travaux devraient commencer au printemps prochain, a indiqué le maire.'
)
# Three words fastText is unsure of (it leans to English), lingua reads as
# another language: who decides shows in the answer.
TERSE = 'Markets rose. Stocks fell. Oil flat.'


class _Counted:
  """The real backend, its calls counted."""

  def __init__(self, backend):
    self._backend = backend
    self.calls = collections.Counter()

  def __getattr__(self, name):
    attribute = getattr(self._backend, name)
    if not callable(attribute):
      return attribute

    def call(*args):
      self.calls[name] += 1
      return attribute(*args)

    return call


@pytest.fixture(scope='module')
def fasttext():
  return FAST_DETECTORS['fasttext']()


@pytest.fixture(scope='module')
def lingua_alone(config):
  return LanguageDetector(dict(config['language'], fast_detector='none'))


def _counted(detector):
  detector._backend = _Counted(detector._backend)
  return detector._backend.calls


def test_fasttext_labels_a_clear_story_and_lingua_is_not_asked(config, fasttext):
  detector = LanguageDetector(config['language'])
  calls = _counted(detector)
  code, probability = fasttext.top(' '.join(ENGLISH))
  assert code == 'en'
  assert probability >= config['language']['fast_document_min_probability']
  assert detector.detect('\n\n'.join(ENGLISH)) == ('en', round(probability, 4))
  # The whole stage on a clear story: label and paragraph screening.
  labelled = detector.label(schema.new_article(body='\n\n'.join(ENGLISH)))
  assert (labelled['language'], labelled['body']) == ('en', '\n\n'.join(ENGLISH))
  assert not labelled['removed']
  assert sum(calls.values()) == 0


def test_close_language_label_stays_lingua_s_call(config, fasttext, lingua_alone):
  code, probability = fasttext.top(INDONESIAN)
  assert code in ('id', 'ms') and probability >= 0.5
  # Even when fastText would be trusted at its probability, Malay and
  # Indonesian are a close_languages group: lingua decides.
  detector = LanguageDetector(dict(config['language'], fast_document_min_probability=0.5))
  calls = _counted(detector)
  assert detector.detect(INDONESIAN) == lingua_alone.detect(INDONESIAN)
  assert calls['ranked'] == 1


def test_below_its_threshold_fasttext_defers_to_lingua(config, fasttext, lingua_alone):
  code, probability = fasttext.top(TERSE)
  lingua = lingua_alone.detect(TERSE)
  assert lingua[0] != code  # the two read it differently
  trusting = LanguageDetector(
    dict(config['language'], fast_document_min_probability=probability - 0.01)
  )
  assert trusting.detect(TERSE) == (code, round(probability, 4))
  doubting = LanguageDetector(
    dict(config['language'], fast_document_min_probability=probability + 0.01)
  )
  assert doubting.detect(TERSE) == lingua


@pytest.mark.parametrize(
  'fragment', ['Laisser un commentaire', FRENCH], ids=['comment-prompt', 'paragraph']
)
def test_foreign_same_script_fragment_is_still_cut(config, fragment):
  detector = LanguageDetector(config['language'])
  labelled = detector.label(schema.new_article(body='\n\n'.join(ENGLISH + [fragment])))
  assert labelled['language'] == 'en'
  assert labelled['body'] == '\n\n'.join(ENGLISH)
  [cut] = labelled['removed']
  assert (cut['reason'], cut['language'], cut['rule']) == ('foreign_language', 'fr', 'lingua')


def test_paragraphs_fasttext_is_unsure_of_go_through_lingua(config, fasttext):
  # Above the probability fastText gives any of the paragraphs, every one is
  # screened by lingua as without fastText; the cut is the same.
  surest = max(fasttext.top(p)[1] for p in ENGLISH + [FRENCH])
  assert surest < 1.0
  detector = LanguageDetector(dict(config['language'], fast_fragment_min_probability=surest + 1e-6))
  calls = _counted(detector)
  body = '\n\n'.join(ENGLISH + [FRENCH])
  labelled = detector.label(schema.new_article(body=body))
  assert labelled['body'] == '\n\n'.join(ENGLISH)
  assert calls['ranked_among'] == len(ENGLISH) + 1


def test_without_fast_detector_lingua_decides_everything(config, lingua_alone):
  # The thresholds mean nothing without fastText: TERSE gets lingua's label.
  detector = LanguageDetector(
    dict(
      config['language'],
      fast_detector='none',
      fast_document_min_probability=0.0,
      fast_fragment_min_probability=0.0,
    )
  )
  calls = _counted(detector)
  top = lingua_alone.ranked(TERSE)[0]
  assert detector.detect(TERSE) == (top[0], round(top[1], 4))
  body = '\n\n'.join(ENGLISH + ['Laisser un commentaire'])
  labelled = detector.label(schema.new_article(body=body))
  assert labelled['body'] == '\n\n'.join(ENGLISH)
  assert labelled['language_score'] == lingua_alone.detect('\n\n'.join(ENGLISH))[1]
  assert calls['ranked_among'] == len(ENGLISH) + 1


def test_cascade_labels_and_scores_are_the_same_on_every_run(config):
  bodies = ['\n\n'.join(ENGLISH + [FRENCH]), INDONESIAN, TERSE]
  first = [
    LanguageDetector(config['language']).label(schema.new_article(body=body)) for body in bodies
  ]
  again = LanguageDetector(config['language'])
  for _ in range(3):
    assert [again.label(schema.new_article(body=b)) for b in bodies] == first


def test_text_without_letters_has_no_language_at_any_threshold(config):
  # fastText guesses English, weakly, for anything; without a letter there
  # is nothing to guess from.
  detector = LanguageDetector(dict(config['language'], fast_document_min_probability=0.0))
  for text in ('', '   ', '2024-05-01 12:30', '\u2014 | \u2022'):
    assert detector.detect(text) == (None, 0.0)
