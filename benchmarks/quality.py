"""Text quality: newsbeam's own stages against trafilatura and langdetect alone.

Extraction, on two public sets (in the same run, same pages, same input):
  * extraction/scrapinghub-dev: body token F1 as the scrapinghub
    article-extraction-benchmark scores it, with single tokens (bag of words):
    per page, precision and recall over token multisets; then the mean
    precision and mean recall over pages, and F1 of those means.
  * the same pages by extraction mode (fast, balanced, best) beside
    trafilatura alone and resiliparse alone: F1 on all pages, and
    cross-validated with folds by site (each fold's settings, the vote's
    share and the printed lead, chosen on the other folds): in-fold (tuned)
    and held-out F1; and each one's extraction CPU ms per page;
  * extraction/trafilatura-eval-subset: the share of must-have snippets found
    in the text (`with`) and of must-not snippets absent from it (`without`).
The baseline is trafilatura's bare_extraction with default settings; newsbeam
is build_articles -> ArticleCleaner.clean -> SiteBoilerplate (learned over the
run's pages) -> LanguageDetector.label, the bodies of a page's parts joined.

Language, on langid/labelled.tsv (75 languages; sentences, word pairs, single
words):
  * composite documents: several sentences of one language plus a one-sentence
    footer of another; document label accuracy, and the share of footers cut,
    cross-script and same-script apart (and on the held-out half of the
    languages, the odd-numbered ones in code order: the fragment rules were
    compared on the even-numbered ones);
  * single sentences: accuracy of newsbeam's detector and of langdetect alone.

The language stage's cost: CPU milliseconds per page on the extraction
sets' pages (extracted and cleaned first, untimed), against trafilatura's
extraction of the same pages.

  .venv/bin/python benchmarks/quality.py [--data ../shared/data] [--limit N]
      [--only modes] [--only language] [--only language-cost] [--skip PART]
      [--folds 5]
"""

import argparse
import collections
import gzip
import json
import os
import random
import re
import resource
import statistics
import sys
import time
import unicodedata
from typing import Dict, Iterable, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)

from configs.loading import load_config  # noqa: E402
from transforms import schema  # noqa: E402
from transforms.extract import build_articles  # noqa: E402
from transforms.language.detector import LanguageDetector  # noqa: E402
from transforms.text.boilerplate import SiteBoilerplate, page_lines  # noqa: E402
from transforms.text.cleaning import ArticleCleaner  # noqa: E402
from transforms.text.page import Vote  # noqa: E402

_TOKEN = re.compile(r'\w+', re.U)


# --- scoring -------------------------------------------------------------


def token_counts(text: str) -> collections.Counter:
  return collections.Counter(_TOKEN.findall(text or ''))


def token_match(gold: str, pred: str) -> Tuple[float, float, float]:
  """(tp, fp, fn) over token multisets, normalized to sum 1 as the
  scrapinghub benchmark does (so long pages weigh no more than short)."""
  true, got = token_counts(gold), token_counts(pred)
  tp = sum((true & got).values())
  fp = sum((got - true).values())
  fn = sum((true - got).values())
  total = tp + fp + fn
  return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _precision(tp, fp, fn):
  if fp == fn == 0:
    return 1.0
  return 0.0 if tp == fp == 0 else tp / (tp + fp)


def _recall(tp, fp, fn):
  if fp == fn == 0:
    return 1.0
  return 0.0 if tp == fn == 0 else tp / (tp + fn)


def f1_scores(matches: List[Tuple[float, float, float]]) -> Dict[str, float]:
  """The benchmark's aggregate: mean precision, mean recall, their F1."""
  precision = statistics.mean(_precision(*m) for m in matches if m[0] + m[1] > 0)
  recall = statistics.mean(_recall(*m) for m in matches if m[0] + m[2] > 0)
  f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
  return {'f1': f1, 'precision': precision, 'recall': recall}


def _comparable_snippet(text: str) -> str:
  return ' '.join(unicodedata.normalize('NFC', text or '').split())


def snippet_shares(pages: List[Dict], texts: List[str]) -> Dict[str, float]:
  """Shares of must-have snippets kept and must-not snippets dropped. Both
  sides are NFC and whitespace-normalized, the same for every system."""
  kept = wanted = dropped = unwanted = 0
  for page, text in zip(pages, texts):
    text = _comparable_snippet(text)
    for snippet in page['with']:
      wanted += 1
      kept += _comparable_snippet(snippet) in text
    for snippet in page['without']:
      unwanted += 1
      dropped += _comparable_snippet(snippet) not in text
  kept_share, dropped_share = kept / wanted, dropped / unwanted
  return {'kept': kept_share, 'dropped': dropped_share, 'mean': (kept_share + dropped_share) / 2}


# --- systems -------------------------------------------------------------


def trafilatura_alone(page: Dict) -> str:
  from trafilatura import bare_extraction

  doc = bare_extraction(page['html'], url=page['url'])
  return (doc.text or '') if doc is not None else ''


def resiliparse_alone(page: Dict) -> str:
  from transforms.text.vote import resiliparse_text

  return resiliparse_text(page['html'])


def site_folds(pages: List[Dict], folds: int) -> List[int]:
  """Each page's fold: the pages' sites (host names) in sorted order dealt
  round the folds, so that a site's pages are all in one fold."""
  from urllib.parse import urlsplit

  sites = sorted({urlsplit(p['url']).hostname for p in pages})
  fold_of = {site: n % folds for n, site in enumerate(sites)}
  return [fold_of[urlsplit(p['url']).hostname] for p in pages]


def cross_validated(pages: List[Dict], texts: Dict[str, List[str]], fold_of: List[int]):
  """(tuned F1, held-out F1) of choosing among the variants `texts` (name
  -> a text per page) by F1 on the other folds: tuned is the chosen
  variants' F1 on the pages they were chosen on (mean over folds), held-out
  their F1 on the fold left out, scored over all pages pooled; and the
  variant each fold chose."""

  def f1(indices, name):
    return f1_scores([token_match(pages[i]['gold'], texts[name][i]) for i in indices])['f1']

  held_out, tuned, chosen = [None] * len(pages), [], []
  for fold in sorted(set(fold_of)):
    train = [i for i, f in enumerate(fold_of) if f != fold]
    best = max(sorted(texts), key=lambda name: f1(train, name))
    tuned.append(f1(train, best))
    chosen.append(best)
    for i, f in enumerate(fold_of):
      if f == fold:
        held_out[i] = texts[best][i]
  pooled = f1_scores([token_match(p['gold'], t) for p, t in zip(pages, held_out)])['f1']
  return statistics.mean(tuned), pooled, chosen


def extraction_cpu_ms(pages: List[Dict], extract) -> float:
  """CPU milliseconds per page of `extract` over the pages, after one
  untimed pass (warm caches)."""
  for page in pages:
    extract(page)
  start = time.process_time()
  for page in pages:
    extract(page)
  return 1000 * (time.process_time() - start) / len(pages)


# Votes measured beside the modes (transforms.text.page.Vote: trafilatura's
# fallbacks, the other extractors, votes needed, trafilatura's votes); the
# default mode was chosen among them by held-out F1 and CPU per page.
CANDIDATE_VOTES = {
  'readability + resiliparse, 3 of 3': Vote(False, ('readability', 'resiliparse'), 3),
  'readability + resiliparse, trafilatura 2 votes, 3 needed': Vote(
    False, ('readability', 'resiliparse'), 3, 2
  ),
  'readability + resiliparse, trafilatura 2 votes, 2 needed': Vote(
    False, ('readability', 'resiliparse'), 2, 2
  ),
  'readability + jusText + resiliparse, 3 of 4': Vote(
    False, ('readability', 'justext', 'resiliparse'), 3
  ),
}

# The variants cross-validation chooses among, per mode: the vote's share
# and whether the printed lead is put back.
VOTE_SHARES = (0.5, 0.7, 0.9)
LEAD_MIN_WORDS = (0, 8)


def mode_rows(config, pages: List[Dict], folds: int) -> List[Tuple]:
  """Per extraction mode and baseline: F1 on all pages with the configured
  settings, tuned and held-out F1 (folds by site), and extraction CPU ms
  per page against trafilatura alone in the same run."""
  from transforms.text.page import MODES, extract_page

  fold_of = site_folds(pages, folds)
  rows = []
  alone = [trafilatura_alone(p) for p in pages]
  base_ms = extraction_cpu_ms(pages, trafilatura_alone)
  for name, texts, ms in (
    ('trafilatura alone', alone, base_ms),
    ('resiliparse alone', [resiliparse_alone(p) for p in pages], None),
  ):
    f1 = f1_scores([token_match(p['gold'], t) for p, t in zip(pages, texts)])['f1']
    if ms is None:
      ms = extraction_cpu_ms(pages, resiliparse_alone)
    rows.append((name, f1, f1, f1, ms, ms / base_ms))
  extract = config['extract']
  for mode in ('fast', 'balanced', 'best') + tuple(CANDIDATE_VOTES):
    label = 'extract.mode %s' % mode if mode in MODES else 'candidate: %s' % mode
    mode = CANDIDATE_VOTES.get(mode, mode)
    variants = {}
    for share in VOTE_SHARES if mode != 'fast' else (extract['vote_min_share'],):
      for lead in LEAD_MIN_WORDS:
        run_config = dict(
          config, extract=dict(extract, mode=mode, vote_min_share=share, lead_min_words=lead)
        )
        variants['share %.1f, lead %d' % (share, lead)] = Newsbeam(run_config).texts(pages)
    configured = 'share %.1f, lead %d' % (
      extract['vote_min_share'],
      extract['lead_min_words'],
    )
    f1 = f1_scores([token_match(p['gold'], t) for p, t in zip(pages, variants[configured])])['f1']
    tuned, held_out, chosen = cross_validated(pages, variants, fold_of)
    ms = extraction_cpu_ms(
      pages,
      lambda p, mode=mode: extract_page(
        p['html'],
        p['url'],
        extract['favor'],
        extract['min_extracted_chars'],
        extract['story_min_words'],
        extract['story_min_paragraphs'],
        extract['lead_min_words'],
        None,
        mode,
        extract['vote_min_share'],
      ),
    )
    rows.append(
      (
        'newsbeam, %s (chosen per fold: %s)' % (label, '; '.join(chosen)),
        f1,
        tuned,
        held_out,
        ms,
        ms / base_ms,
      )
    )
  return rows


class Newsbeam:
  """newsbeam's stages, as the pipeline chains them, on a run of pages."""

  def __init__(self, config):
    self.config = config
    self.cleaner = ArticleCleaner(config['clean'])
    self.detector = LanguageDetector(config['language'])

  def texts(self, pages: List[Dict]) -> List[str]:
    extract = self.config['extract']
    stories_per_page = [
      [story for article in build_articles(page, extract) for story in self.cleaner.clean(article)]
      for page in pages
    ]
    # Site boilerplate is learned over the run, as in the pipeline.
    line_pages = collections.Counter()
    domain_pages = collections.Counter()
    for stories in stories_per_page:
      for story in stories:
        domain_pages[story['domain']] += 1
        line_pages.update((story['domain'], line) for line in page_lines(story))
    site = SiteBoilerplate.from_counts(line_pages, domain_pages, self.config['boilerplate'])
    out = []
    for stories in stories_per_page:
      bodies = [self.detector.label(site.cut(story))['body'] for story in stories]
      out.append(schema.join_paragraphs(bodies))
    return out


# --- data ----------------------------------------------------------------


def _decode(raw: bytes) -> str:
  from trafilatura.utils import decode_file

  return decode_file(raw)


def scrapinghub_pages(folder: str, limit: Optional[int]) -> List[Dict]:
  with open(os.path.join(folder, 'ground-truth.json'), encoding='utf-8') as f:
    truth = json.load(f)
  pages = []
  for page_id in sorted(truth)[:limit]:
    with gzip.open(os.path.join(folder, 'html', page_id + '.html.gz')) as f:
      html = _decode(f.read())
    pages.append(
      {'url': truth[page_id]['url'], 'html': html, 'gold': truth[page_id]['articleBody']}
    )
  return pages


def trafilatura_eval_pages(folder: str, limit: Optional[int]) -> List[Dict]:
  with open(os.path.join(folder, 'evaldata_subset.json'), encoding='utf-8') as f:
    entries = json.load(f)
  pages = []
  for key in sorted(entries)[:limit]:
    entry = entries[key]
    with gzip.open(os.path.join(folder, entry['staged_file'])) as f:
      html = _decode(f.read())
    url = key.split('::', 1)[-1]
    pages.append(
      {
        'url': url if url.startswith('http') else 'https://' + url,
        'html': html,
        'with': entry.get('with') or [],
        'without': entry.get('without') or [],
      }
    )
  return pages


def labelled_texts(path: str) -> Dict[Tuple[str, str], List[str]]:
  texts = collections.defaultdict(list)
  with open(path, encoding='utf-8') as f:
    next(f)
    for line in f:
      lang, kind, text = line.rstrip('\n').split('\t', 2)
      texts[(lang, kind)].append(text)
  return texts


# Script of each labelled language that is not written in Latin letters:
# the benchmark's own table, so that "cross-script" does not depend on the
# code under test.
LANGUAGE_SCRIPT = {
  'ar': 'Arabic',
  'fa': 'Arabic',
  'ur': 'Arabic',
  'be': 'Cyrillic',
  'bg': 'Cyrillic',
  'kk': 'Cyrillic',
  'mk': 'Cyrillic',
  'mn': 'Cyrillic',
  'ru': 'Cyrillic',
  'sr': 'Cyrillic',
  'uk': 'Cyrillic',
  'el': 'Greek',
  'he': 'Hebrew',
  'hi': 'Devanagari',
  'mr': 'Devanagari',
  'bn': 'Bengali',
  'gu': 'Gujarati',
  'pa': 'Gurmukhi',
  'ta': 'Tamil',
  'te': 'Telugu',
  'th': 'Thai',
  'ka': 'Georgian',
  'hy': 'Armenian',
  'ko': 'Hangul',
  'ja': 'Japanese',
  'zh': 'Han',
}


# A footer is a short line: a sentence of at most this many characters.
FOOTER_MAX_CHARS = 100
# Languages so close that detectors (lingua's own figures included) tell them
# apart poorly; merged for one extra figure, never for the main one.
CLOSE_LANGUAGES = {'id': 'ms', 'hr': 'bs', 'sr': 'bs', 'nn': 'nb', 'no': 'nb'}


def composite_documents(
  texts, languages: List[str], per_language: int, sentences: int, seed: int = 0
):
  """[(language, body, footer language, footer)]: `sentences` sentences of
  one language, each a paragraph, then a short footer line (a sentence of at
  most FOOTER_MAX_CHARS characters) of another."""
  rng = random.Random(seed)
  footers = {
    lang: [t for t in texts[(lang, 'sentences')] if len(t) <= FOOTER_MAX_CHARS]
    for lang in languages
  }
  docs = []
  for lang in languages:
    for _ in range(per_language):
      body = rng.sample(texts[(lang, 'sentences')], sentences)
      other = rng.choice([l for l in languages if l != lang and footers[l]])
      docs.append((lang, body, other, rng.choice(footers[other])))
  return docs


def language_figures(
  detector: LanguageDetector,
  texts,
  per_language: int,
  sentences: int,
  sentence_limit: Optional[int],
) -> Dict[str, Dict[str, float]]:
  from langdetect import DetectorFactory, detect_langs
  from langdetect.lang_detect_exception import LangDetectException

  from transforms.language.backends import iso_639_1

  languages = sorted({lang for lang, _ in texts})
  docs = composite_documents(texts, languages, per_language, sentences)
  DetectorFactory.seed = 0

  def langdetect_alone(text):
    try:
      return iso_639_1(detect_langs(text)[0].lang)
    except LangDetectException:
      return None

  right = close_right = alone_right = cross = cross_cut = same = same_cut = 0
  body_sentences = body_cut = 0
  # The fragment rules were chosen on the even-numbered languages (in code
  # order); the odd-numbered ones are held out and reported apart.
  held_out = set(languages[1::2])
  held = collections.Counter()
  start = time.perf_counter()
  for lang, body, other, footer in docs:
    labelled = detector.label(schema.new_article(body=schema.join_paragraphs(body + [footer])))
    right += labelled['language'] == lang
    close_right += CLOSE_LANGUAGES.get(
      labelled['language'], labelled['language']
    ) == CLOSE_LANGUAGES.get(lang, lang)
    alone_right += langdetect_alone(schema.join_paragraphs(body + [footer])) == lang
    kept = schema.paragraphs(labelled['body'])
    cut = footer not in kept
    body_sentences += len(body)
    body_cut += sum(1 for sentence in body if sentence not in kept)
    if LANGUAGE_SCRIPT.get(lang, 'Latin') != LANGUAGE_SCRIPT.get(other, 'Latin'):
      cross += 1
      cross_cut += cut
    else:
      same += 1
      same_cut += cut
      if lang in held_out:
        held['same'] += 1
        held['same_cut'] += cut
    if lang in held_out:
      held['body'] += len(body)
      held['body_cut'] += sum(1 for sentence in body if sentence not in kept)
  composite_ms = 1000 * (time.perf_counter() - start) / len(docs)

  single = [
    (lang, text) for lang in languages for text in texts[(lang, 'sentences')][:sentence_limit]
  ]
  start = time.perf_counter()
  ours = sum(detector.detect(text)[0] == lang for lang, text in single)
  ours_ms = 1000 * (time.perf_counter() - start) / len(single)

  start = time.perf_counter()
  alone = sum(langdetect_alone(text) == lang for lang, text in single)
  alone_ms = 1000 * (time.perf_counter() - start) / len(single)
  return {
    'composite': {
      'documents': len(docs),
      'accuracy': right / len(docs),
      'alone': alone_right / len(docs),
      'close': close_right / len(docs),
      'body_cut': body_cut / body_sentences,
      'cross_script': cross,
      'cross_cut': cross_cut / max(cross, 1),
      'same_script': same,
      'same_cut': same_cut / max(same, 1),
      'held_same': held['same'],
      'held_same_cut': held['same_cut'] / max(held['same'], 1),
      'held_body_cut': held['body_cut'] / max(held['body'], 1),
      'ms': composite_ms,
    },
    'single': {
      'sentences': len(single),
      'ours': ours / len(single),
      'alone': alone / len(single),
      'ours_ms': ours_ms,
      'alone_ms': alone_ms,
    },
  }


def language_stage_cost(newsbeam: Newsbeam, pages: List[Dict]) -> Tuple[float, float]:
  """CPU milliseconds per page: the language stage on the stories newsbeam
  extracts and cleans from the pages (after one untimed pass, so lingua's
  models are loaded), and trafilatura's extraction of the same pages. CPU
  time, as the machine may be shared."""
  extract = newsbeam.config['extract']
  stories = [
    story
    for page in pages
    for article in build_articles(page, extract)
    for story in newsbeam.cleaner.clean(article)
  ]
  for story in stories:
    newsbeam.detector.label(story)
  start = time.process_time()
  for story in stories:
    newsbeam.detector.label(story)
  language_ms = 1000 * (time.process_time() - start) / len(pages)
  start = time.process_time()
  for page in pages:
    trafilatura_alone(page)
  return language_ms, 1000 * (time.process_time() - start) / len(pages)


# --- report --------------------------------------------------------------


def _row(cells: Iterable) -> str:
  return '| ' + ' | '.join(str(c) for c in cells) + ' |'


def run(argv=None) -> None:
  default_data = os.path.join(ROOT, '..', 'shared', 'data')
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument(
    '--data',
    default=default_data if os.path.isdir(default_data) else None,
    help='the shared data folder',
  )
  parser.add_argument(
    '--limit',
    type=int,
    default=None,
    help='at most this many pages per extraction set, and single sentences per language',
  )
  parser.add_argument(
    '--per-language', type=int, default=20, help='composite documents per language'
  )
  parser.add_argument('--sentences', type=int, default=4, help='sentences per composite document')
  parser.add_argument('--config', default=None, help='a newsbeam config merged over the defaults')
  parser.add_argument('--folds', type=int, default=5, help='cross-validation folds (by site)')
  parts = ['scrapinghub', 'modes', 'trafilatura', 'language', 'language-cost']
  parser.add_argument('--skip', action='append', default=[], choices=parts)
  parser.add_argument(
    '--only', action='append', default=[], choices=parts, help='run only this part (repeatable)'
  )
  args = parser.parse_args(argv)
  if args.only:
    args.skip = [part for part in parts if part not in args.only]
  if not args.data:
    parser.error('--data is required (no ../shared/data here)')
  config = load_config(args.config)
  start = time.perf_counter()
  newsbeam = Newsbeam(config)
  newsbeam.detector.detect('The council voted on Monday to extend the tram line.')
  load_seconds = time.perf_counter() - start
  rows = []

  if 'scrapinghub' not in args.skip:
    pages = scrapinghub_pages(os.path.join(args.data, 'extraction', 'scrapinghub-dev'), args.limit)
    timed = {}
    for name, texts in (
      ('trafilatura', lambda: [trafilatura_alone(p) for p in pages]),
      ('newsbeam', lambda: newsbeam.texts(pages)),
    ):
      start = time.perf_counter()
      got = texts()
      timed[name] = (
        f1_scores([token_match(p['gold'], t) for p, t in zip(pages, got)]),
        time.perf_counter() - start,
      )
    for key in ('f1', 'precision', 'recall'):
      rows.append(
        (
          'scrapinghub-dev (%d pages): body token %s' % (len(pages), key),
          timed['newsbeam'][0][key],
          timed['trafilatura'][0][key],
        )
      )
    rows.append(
      ('scrapinghub-dev: seconds for all pages', timed['newsbeam'][1], timed['trafilatura'][1])
    )

  if 'modes' not in args.skip:
    pages = scrapinghub_pages(os.path.join(args.data, 'extraction', 'scrapinghub-dev'), args.limit)
    print(
      'scrapinghub-dev (%d pages), body token F1 by extraction mode, %d folds by site; '
      'extraction CPU ms per page against trafilatura alone' % (len(pages), args.folds)
    )
    print(
      _row(('system', 'all pages', 'tuned (in-fold)', 'held-out', 'CPU ms/page', 'x trafilatura'))
    )
    print(_row(('---', '---:', '---:', '---:', '---:', '---:')))
    for name, *figures in mode_rows(config, pages, args.folds):
      print(
        _row(
          [name] + ['%.4f' % f for f in figures[:3]] + ['%.1f' % figures[3], '%.2f' % figures[4]]
        )
      )
    print()

  if 'trafilatura' not in args.skip:
    pages = trafilatura_eval_pages(
      os.path.join(args.data, 'extraction', 'trafilatura-eval-subset'), args.limit
    )
    ours = snippet_shares(pages, newsbeam.texts(pages))
    alone = snippet_shares(pages, [trafilatura_alone(p) for p in pages])
    for key, what in (
      ('kept', 'must-have snippets kept'),
      ('dropped', 'must-not snippets dropped'),
      ('mean', 'mean of both'),
    ):
      rows.append(
        ('trafilatura-eval-subset (%d pages): %s' % (len(pages), what), ours[key], alone[key])
      )

  if 'language' not in args.skip:
    texts = labelled_texts(os.path.join(args.data, 'langid', 'labelled.tsv'))
    figures = language_figures(
      newsbeam.detector, texts, args.per_language, args.sentences, args.limit
    )
    comp, single = figures['composite'], figures['single']
    language = config['language']
    backend = (
      language['backend']
      + (
        ' (low accuracy mode)'
        if language['backend'] == 'lingua' and language['lingua_low_accuracy']
        else ''
      )
      + (', %s first' % language['fast_detector'] if language['fast_detector'] != 'none' else '')
    )
    rows += [
      (
        'composite documents (%d): document language accuracy' % comp['documents'],
        comp['accuracy'],
        comp['alone'],
      ),
      ('composite: accuracy, close languages merged (ms=id, bs=hr=sr, nb=nn)', comp['close'], None),
      ('composite: cross-script footers cut (%d)' % comp['cross_script'], comp['cross_cut'], None),
      ('composite: same-script footers cut (%d)' % comp['same_script'], comp['same_cut'], None),
      ('composite: body sentences wrongly cut', comp['body_cut'], None),
      (
        'composite, held-out half of the languages: same-script footers '
        'cut (%d)' % comp['held_same'],
        comp['held_same_cut'],
        None,
      ),
      (
        'composite, held-out half of the languages: body sentences wrongly cut',
        comp['held_body_cut'],
        None,
      ),
      ('composite: ms per document', comp['ms'], None),
      ('single sentences (%d): accuracy' % single['sentences'], single['ours'], single['alone']),
      ('single sentences: ms per sentence', single['ours_ms'], single['alone_ms']),
    ]
    print(
      'language backend: %s; baselines: trafilatura alone (extraction), '
      'langdetect alone on the whole text (language)' % backend
    )
    print(
      'newsbeam stages and detector loaded in %.1f s (first detection '
      'included); peak memory of this process %.0f MB'
      % (load_seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    )

  if 'language-cost' not in args.skip:
    pages = scrapinghub_pages(
      os.path.join(args.data, 'extraction', 'scrapinghub-dev'), args.limit
    ) + trafilatura_eval_pages(
      os.path.join(args.data, 'extraction', 'trafilatura-eval-subset'), args.limit
    )
    language_ms, extract_ms = language_stage_cost(newsbeam, pages)
    rows.append(
      (
        'language stage, CPU ms per page (%d extraction pages; '
        'baseline: trafilatura extraction)' % len(pages),
        language_ms,
        extract_ms,
      )
    )

  print(_row(('figure', 'newsbeam', 'baseline')))
  print(_row(('---', '---:', '---:')))
  for name, ours, base in rows:
    print(
      _row(
        (
          name,
          '%.4f' % ours if isinstance(ours, float) else ours,
          '-' if base is None else '%.4f' % base,
        )
      )
    )


if __name__ == '__main__':
  run()
