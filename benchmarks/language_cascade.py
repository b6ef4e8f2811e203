"""The language cascade's thresholds: fastText first, the backend where it is
not sure, swept over both thresholds against the backend alone.

On langid/labelled.tsv (75 languages), as benchmarks/quality.py builds them:
composite documents (sentences of one language, each a paragraph, then a
short footer sentence of another) and single sentences. Each setting of
`fast_document_min_probability` x `fast_fragment_min_probability` is
reported on the tuning half of the languages (even-numbered in code order)
and on the held-out half (odd-numbered) apart: thresholds are chosen on the
first and checked on the second. The baseline, in the same run, is
`fast_detector: none` (the backend alone).

Cost is counted, not timed, here: backend (lingua) calls per composite
document and per sentence, the calls the cascade saves. Both detectors are
deterministic, so their answers are computed once per distinct text and
shared by every setting (each setting's figures are exactly what the stage
gives; the sweep just does not pay for the same answer twice). CPU time is
measured by benchmarks/quality.py --only language-cost.

  .venv/bin/python -m benchmarks.language_cascade [--data ../shared/data]
      [--per-language 20] [--thresholds 0.5,0.8,0.9]
"""

import argparse
import collections
import os
import sys
from typing import Dict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)

from benchmarks.quality import (  # noqa: E402
  CLOSE_LANGUAGES,
  LANGUAGE_SCRIPT,
  _row,
  composite_documents,
  labelled_texts,
)
from configs.loading import load_config  # noqa: E402
from transforms import schema  # noqa: E402
from transforms.language.detector import LanguageDetector  # noqa: E402

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)
# Quality figures where higher is better, and the one where lower is.
HIGHER = ('accuracy', 'close', 'cross_cut', 'same_cut', 'single')
LOWER = ('body_cut',)


class _Answers:
  """A detector's answers, each computed once per distinct call, and every
  call counted (the count is what the stage would pay for)."""

  def __init__(self, detector):
    self._detector = detector
    self._answers = {}
    self.calls = collections.Counter()

  def __getattr__(self, name):
    attribute = getattr(self._detector, name)
    if not callable(attribute):
      return attribute

    def answer(*args):
      self.calls[name] += 1
      if (name, args) not in self._answers:
        self._answers[(name, args)] = attribute(*args)
      return self._answers[(name, args)]

    return answer


def figures(
  detector: LanguageDetector, backend: _Answers, docs, single, halves: Dict[str, str]
) -> Dict[str, Dict[str, float]]:
  """Quality figures and backend calls, per half of the languages."""
  count = collections.defaultdict(collections.Counter)
  for lang, body, other, footer in docs:
    half = count[halves[lang]]
    before = sum(backend.calls.values())
    labelled = detector.label(schema.new_article(body=schema.join_paragraphs(body + [footer])))
    half['doc_calls'] += sum(backend.calls.values()) - before
    half['docs'] += 1
    half['accuracy'] += labelled['language'] == lang
    half['close'] += CLOSE_LANGUAGES.get(
      labelled['language'], labelled['language']
    ) == CLOSE_LANGUAGES.get(lang, lang)
    kept = schema.paragraphs(labelled['body'])
    half['body'] += len(body)
    half['body_cut'] += sum(1 for sentence in body if sentence not in kept)
    kind = (
      'cross'
      if LANGUAGE_SCRIPT.get(lang, 'Latin') != LANGUAGE_SCRIPT.get(other, 'Latin')
      else 'same'
    )
    half[kind] += 1
    half[kind + '_cut'] += footer not in kept
  for lang, text in single:
    half = count[halves[lang]]
    before = sum(backend.calls.values())
    half['single'] += detector.detect(text)[0] == lang
    half['sentence_calls'] += sum(backend.calls.values()) - before
    half['sentences'] += 1
  out = {}
  for name, half in count.items():
    out[name] = {
      'accuracy': half['accuracy'] / half['docs'],
      'close': half['close'] / half['docs'],
      'cross_cut': half['cross_cut'] / max(half['cross'], 1),
      'same_cut': half['same_cut'] / max(half['same'], 1),
      'body_cut': half['body_cut'] / half['body'],
      'single': half['single'] / half['sentences'],
      'doc_calls': half['doc_calls'] / half['docs'],
      'sentence_calls': half['sentence_calls'] / half['sentences'],
    }
  return out


def holds(got: Dict[str, float], base: Dict[str, float]) -> bool:
  """No quality figure worse than the baseline's."""
  return all(got[key] >= base[key] for key in HIGHER) and all(
    got[key] <= base[key] for key in LOWER
  )


def run(argv=None) -> None:
  default_data = os.path.join(ROOT, '..', 'shared', 'data')
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument(
    '--data',
    default=default_data if os.path.isdir(default_data) else None,
    help='the shared data folder',
  )
  parser.add_argument(
    '--per-language', type=int, default=20, help='composite documents per language'
  )
  parser.add_argument('--sentences', type=int, default=4, help='sentences per composite document')
  parser.add_argument(
    '--limit', type=int, default=None, help='single sentences per language (default: all)'
  )
  parser.add_argument(
    '--thresholds',
    default=','.join(map(str, THRESHOLDS)),
    help='values tried for both thresholds, comma-separated',
  )
  parser.add_argument('--config', default=None, help='a newsbeam config merged over the defaults')
  args = parser.parse_args(argv)
  if not args.data:
    parser.error('--data is required (no ../shared/data here)')
  thresholds = [float(t) for t in args.thresholds.split(',')]
  config = load_config(args.config)['language']

  texts = labelled_texts(os.path.join(args.data, 'langid', 'labelled.tsv'))
  languages = sorted({lang for lang, _ in texts})
  halves = {lang: ('held-out' if i % 2 else 'tuning') for i, lang in enumerate(languages)}
  docs = composite_documents(texts, languages, args.per_language, args.sentences)
  single = [(lang, text) for lang in languages for text in texts[(lang, 'sentences')][: args.limit]]

  # One backend and one fastText model, their answers shared by every setting.
  shared = LanguageDetector(dict(config, fast_detector='fasttext'))
  backend, fast = _Answers(shared._backend), _Answers(shared._fast)

  def measure(settings):
    detector = LanguageDetector(dict(config, **settings))
    detector._backend = backend
    if detector._fast:
      detector._fast = fast
    return figures(detector, backend, docs, single, halves)

  results = [('none', '-', measure({'fast_detector': 'none'}))]
  for document_min in thresholds:
    for fragment_min in thresholds:
      results.append(
        (
          document_min,
          fragment_min,
          measure(
            {
              'fast_detector': 'fasttext',
              'fast_document_min_probability': document_min,
              'fast_fragment_min_probability': fragment_min,
            }
          ),
        )
      )

  base = results[0][2]
  print(
    'composite documents: %d (%d sentences + a footer); single '
    'sentences: %d; languages: %d, tuning half %d, held-out half %d'
    % (
      len(docs),
      args.sentences,
      len(single),
      len(languages),
      sum(1 for h in halves.values() if h == 'tuning'),
      sum(1 for h in halves.values() if h == 'held-out'),
    )
  )
  print(
    'backend: %s; holds = no quality figure of the half worse than the '
    'backend alone\'s' % config['backend']
  )
  for half in ('tuning', 'held-out'):
    print('\n%s half' % half)
    print(
      _row(
        (
          'document min',
          'fragment min',
          'doc accuracy',
          'close merged',
          'cross-script cut',
          'same-script cut',
          'body wrongly cut',
          'single sentences',
          'backend calls/doc',
          'backend calls/sentence',
          'holds',
        )
      )
    )
    print(_row(['---'] * 2 + ['---:'] * 8 + ['---']))
    for document_min, fragment_min, got in results:
      figure = got[half]
      print(
        _row(
          [document_min, fragment_min]
          + ['%.4f' % figure[k] for k in HIGHER[:4] + LOWER + ('single',)]
          + [
            '%.2f' % figure['doc_calls'],
            '%.3f' % figure['sentence_calls'],
            'yes' if holds(figure, base[half]) else 'no',
          ]
        )
      )
  holding = [r for r in results[1:] if holds(r[2]['tuning'], base['tuning'])]
  if holding:
    cheapest = min(
      holding,
      key=lambda r: (r[2]['tuning']['doc_calls'] + r[2]['tuning']['sentence_calls'], -r[0], -r[1]),
    )
    print(
      '\ncheapest setting that holds on the tuning half: document %s, '
      'fragment %s; on the held-out half it %s'
      % (
        cheapest[0],
        cheapest[1],
        'holds' if holds(cheapest[2]['held-out'], base['held-out']) else 'does NOT hold',
      )
    )


if __name__ == '__main__':
  run()
