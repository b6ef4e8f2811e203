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
    in the text (`with`) and of must-not snippets absent from it (`without`);
    and the same by extraction mode (`mode-snippets`): pages none of the
    modes was built on.
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
      [--only modes] [--only mode-snippets] [--only footers] [--only language]
      [--only language-cost] [--skip PART] [--folds 5] [--quick] [--workers 2]
      [--rounds 3]

The extraction modes, cross-validated, with the footers, in under 15
minutes on a loaded 2-core machine:

  .venv/bin/python benchmarks/quality.py --only modes --only mode-snippets \
      --only footers --quick
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
from typing import Callable, Dict, Iterable, List, Optional, Tuple

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


def extraction_cpu_ms(pages: List[Dict], systems: Dict[str, Callable], rounds: int):
  """CPU milliseconds per page of each system (a function of a page) over
  the pages: one untimed pass each (warm caches, models loaded), then
  `rounds` rounds, each running every system over all pages in turn, so
  that the machine's load weighs on all alike. CPU time of this process
  (the extraction runs in it, no child), not wall time."""
  for extract in systems.values():
    for page in pages:
      extract(page)
  spent = collections.Counter()
  for _ in range(rounds):
    for name, extract in systems.items():
      start = time.process_time()
      for page in pages:
        extract(page)
      spent[name] += time.process_time() - start
  return {name: 1000 * spent[name] / (rounds * len(pages)) for name in systems}


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


def mode_systems(quick: bool) -> List[str]:
  """The extraction modes, then (unless `quick`) the candidate votes."""
  from transforms.text.page import MODES

  return list(MODES) + ([] if quick else list(CANDIDATE_VOTES))


def system_label(system: str) -> str:
  return 'candidate: %s' % system if system in CANDIDATE_VOTES else 'extract.mode %s' % system


def _extract_settings(extract: Dict, system: str, share: float, lead: int) -> Dict:
  """The `extract` section with a mode (or candidate vote), share and lead."""
  return dict(
    extract, mode=CANDIDATE_VOTES.get(system, system), vote_min_share=share, lead_min_words=lead
  )


# A pool worker's newsbeam and pages, set once per process.
_WORKER: Dict = {}


def _start_worker(config, pages) -> None:
  _WORKER.update(newsbeam=Newsbeam(config), pages=pages)


def _variant_texts(variant: Tuple[str, float, int]) -> Tuple[Tuple[str, float, int], List[str]]:
  """A pool task: newsbeam's texts of the pages with one variant's
  extraction settings (system, vote share, lead words)."""
  newsbeam, pages = _WORKER['newsbeam'], _WORKER['pages']
  return variant, newsbeam.texts(pages, _extract_settings(newsbeam.config['extract'], *variant))


def _systems_cpu(systems: List[str], rounds: int) -> Dict[str, float]:
  """A pool task: each system's extraction CPU ms per page, interleaved
  (``extraction_cpu_ms``): trafilatura alone, resiliparse alone, and each
  mode as the pipeline extracts a page (``build_articles``, the configured
  share and lead)."""
  extract, pages = _WORKER['newsbeam'].config['extract'], _WORKER['pages']
  timed = {'trafilatura alone': trafilatura_alone, 'resiliparse alone': resiliparse_alone}
  for system in systems:
    settings = _extract_settings(
      extract, system, extract['vote_min_share'], extract['lead_min_words']
    )
    timed[system] = lambda page, settings=settings: build_articles(page, settings)
  return extraction_cpu_ms(pages, timed, rounds)


def mode_rows(config, pages: List[Dict], folds: int, quick: bool, workers: int, rounds: int):
  """Per extraction mode (and candidate vote, unless `quick`) and baseline:
  F1 on all pages with the configured settings, tuned and held-out F1
  (folds by site; the variants: the vote's share, and the printed lead on
  or off unless `quick`), the variant each fold chose, and extraction CPU ms per
  page against trafilatura alone, all measured in this run. Each variant
  runs newsbeam's stages (``Newsbeam.texts``) in a pool of `workers`
  processes; the CPU is timed in one of them, beside the others."""
  from concurrent.futures import ProcessPoolExecutor

  systems = mode_systems(quick)
  extract = config['extract']
  variants = [
    (system, share, lead)
    for system in systems
    # fast has no vote: its variants are the lead's only.
    for share in (VOTE_SHARES if system != 'fast' else (extract['vote_min_share'],))
    for lead in ((extract['lead_min_words'],) if quick else LEAD_MIN_WORDS)
  ]
  with ProcessPoolExecutor(workers, initializer=_start_worker, initargs=(config, pages)) as pool:
    cpu = pool.submit(_systems_cpu, systems, rounds)
    texts = dict(pool.map(_variant_texts, variants))
    cpu_ms = cpu.result()
  fold_of = site_folds(pages, folds)

  def f1(got):
    return f1_scores([token_match(p['gold'], t) for p, t in zip(pages, got)])['f1']

  base_ms = cpu_ms['trafilatura alone']
  rows = []
  for name, got in (
    ('trafilatura alone', [trafilatura_alone(p) for p in pages]),
    ('resiliparse alone', [resiliparse_alone(p) for p in pages]),
  ):
    rows.append((name, f1(got), f1(got), f1(got), '-', cpu_ms[name], cpu_ms[name] / base_ms))
  for system in systems:
    mine = {
      'share %.1f, lead %d' % (share, lead): got
      for (name, share, lead), got in texts.items()
      if name == system
    }
    configured = 'share %.1f, lead %d' % (extract['vote_min_share'], extract['lead_min_words'])
    tuned, held_out, chosen = cross_validated(pages, mine, fold_of)
    rows.append(
      (
        system_label(system),
        f1(mine[configured]),
        tuned,
        held_out,
        '; '.join(chosen),
        cpu_ms[system],
        cpu_ms[system] / base_ms,
      )
    )
  return rows


def mode_snippet_rows(config, pages: List[Dict], quick: bool, workers: int) -> List[Tuple]:
  """Per extraction mode (and candidate vote, unless `quick`), with the
  configured share and lead, and trafilatura alone: the snippet shares
  (``snippet_shares``) on pages none of them was built on."""
  from concurrent.futures import ProcessPoolExecutor

  extract = config['extract']
  variants = [
    (system, extract['vote_min_share'], extract['lead_min_words']) for system in mode_systems(quick)
  ]
  with ProcessPoolExecutor(workers, initializer=_start_worker, initargs=(config, pages)) as pool:
    texts = dict(pool.map(_variant_texts, variants))
  rows = [('trafilatura alone', snippet_shares(pages, [trafilatura_alone(p) for p in pages]))]
  for (system, _, _), got in texts.items():
    rows.append((system_label(system), snippet_shares(pages, got)))
  return rows


class Newsbeam:
  """newsbeam's stages, as the pipeline chains them, on a run of pages."""

  def __init__(self, config):
    self.config = config
    self.cleaner = ArticleCleaner(config['clean'])
    self.detector = LanguageDetector(config['language'])

  def texts(self, pages: List[Dict], extract: Optional[Dict] = None) -> List[str]:
    """Each page's body as newsbeam publishes it (its stories' bodies
    joined); `extract`: the extraction settings, or the configured ones."""
    extract = extract or self.config['extract']
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


def composite_figures(detector: LanguageDetector, docs, held_out) -> Dict[str, float]:
  """The composite documents labelled: document accuracy, footers cut
  (cross-script and same-script), body sentences wrongly cut, over all
  documents and apart for the documents in the `held_out` languages
  (`held_*`) and the others (`tuned_*`)."""
  count = collections.Counter()
  start = time.perf_counter()
  for lang, body, other, footer in docs:
    labelled = detector.label(schema.new_article(body=schema.join_paragraphs(body + [footer])))
    kept = schema.paragraphs(labelled['body'])
    script = (
      'cross'
      if LANGUAGE_SCRIPT.get(lang, 'Latin') != LANGUAGE_SCRIPT.get(other, 'Latin')
      else 'same'
    )
    for half in ('', 'held_' if lang in held_out else 'tuned_'):
      count[half + 'documents'] += 1
      count[half + 'right'] += labelled['language'] == lang
      count[half + 'close_right'] += CLOSE_LANGUAGES.get(
        labelled['language'], labelled['language']
      ) == CLOSE_LANGUAGES.get(lang, lang)
      count[half + script] += 1
      count[half + script + '_cut'] += footer not in kept
      count[half + 'body'] += len(body)
      count[half + 'body_cut'] += sum(1 for sentence in body if sentence not in kept)
  figures = {'ms': 1000 * (time.perf_counter() - start) / len(docs)}
  for half in ('', 'held_', 'tuned_'):
    figures.update(
      {
        half + 'documents': count[half + 'documents'],
        half + 'accuracy': count[half + 'right'] / max(count[half + 'documents'], 1),
        half + 'close': count[half + 'close_right'] / max(count[half + 'documents'], 1),
        half + 'cross_script': count[half + 'cross'],
        half + 'cross_cut': count[half + 'cross_cut'] / max(count[half + 'cross'], 1),
        half + 'same_script': count[half + 'same'],
        half + 'same_cut': count[half + 'same_cut'] / max(count[half + 'same'], 1),
        half + 'body_cut': count[half + 'body_cut'] / max(count[half + 'body'], 1),
      }
    )
  return figures


# language.short_fragment_fast_min_probability values compared (None: the
# rule off); the default is the one the tuned half of the languages chooses.
SHORT_FAST_THRESHOLDS = (None, 0.3, 0.5, 0.7, 0.9)
# Body sentences wrongly cut must stay under this share.
MAX_BODY_CUT = 0.01


def short_fragment_sweep(language_config: Dict, docs, held_out) -> List[Tuple]:
  """Per threshold of the fastText agreement on short fragments: same-script
  footers cut and body sentences wrongly cut, on the tuned half of the
  languages and on the held-out half, and cross-script footers cut and body
  sentences wrongly cut over all documents; and the threshold the tuned half
  chooses (most footers cut with body sentences cut under MAX_BODY_CUT, the
  higher threshold on a tie)."""
  rows = []
  for threshold in SHORT_FAST_THRESHOLDS:
    detector = LanguageDetector(
      dict(language_config, short_fragment_fast_min_probability=threshold)
    )
    figures = composite_figures(detector, docs, held_out)
    rows.append(
      (
        threshold,
        figures['tuned_same_cut'],
        figures['tuned_body_cut'],
        figures['held_same_cut'],
        figures['held_body_cut'],
        figures['cross_cut'],
        figures['body_cut'],
      )
    )
  allowed = [row for row in rows if row[2] < MAX_BODY_CUT]
  chosen = max(allowed, key=lambda row: (row[1], row[0] or 0))[0] if allowed else None
  return rows, chosen


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

  # The fragment rules are chosen on the even-numbered languages (in code
  # order); the odd-numbered ones are held out and reported apart.
  held_out = set(languages[1::2])
  composite = composite_figures(detector, docs, held_out)
  composite['alone'] = sum(
    langdetect_alone(schema.join_paragraphs(body + [footer])) == lang
    for lang, body, _, footer in docs
  ) / len(docs)

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
    'composite': composite,
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
  parser.add_argument(
    '--quick',
    action='store_true',
    help='modes: the three modes only (no candidate votes), the printed lead as configured',
  )
  parser.add_argument(
    '--workers', type=int, default=2, help='modes: processes running the variants'
  )
  parser.add_argument(
    '--rounds', type=int, default=3, help='modes: interleaved rounds of the CPU timing'
  )
  parts = [
    'scrapinghub',
    'modes',
    'mode-snippets',
    'trafilatura',
    'language',
    'footers',
    'language-cost',
  ]
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
      'extraction CPU ms per page (%d rounds, interleaved) against trafilatura alone'
      % (len(pages), args.folds, args.rounds)
    )
    print(
      _row(
        (
          'system',
          'all pages',
          'tuned (in-fold)',
          'held-out',
          'chosen per fold',
          'CPU ms/page',
          'x trafilatura',
        )
      )
    )
    print(_row(('---', '---:', '---:', '---:', '---', '---:', '---:')))
    for name, all_pages, tuned, held_out, chosen, ms, ratio in mode_rows(
      config, pages, args.folds, args.quick, args.workers, args.rounds
    ):
      print(
        _row(
          (name, '%.4f' % all_pages, '%.4f' % tuned, '%.4f' % held_out, chosen)
          + ('%.1f' % ms, '%.2f' % ratio)
        )
      )
    print()

  if 'mode-snippets' not in args.skip:
    pages = trafilatura_eval_pages(
      os.path.join(args.data, 'extraction', 'trafilatura-eval-subset'), args.limit
    )
    print(
      'trafilatura-eval-subset (%d pages), by extraction mode (configured share and lead): '
      'must-have snippets kept, must-not snippets dropped' % len(pages)
    )
    print(_row(('system', 'must-have kept', 'must-not dropped', 'mean of both')))
    print(_row(('---', '---:', '---:', '---:')))
    for name, shares in mode_snippet_rows(config, pages, args.quick, args.workers):
      print(_row([name] + ['%.4f' % shares[key] for key in ('kept', 'dropped', 'mean')]))
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
        'composite, tuned half of the languages: same-script footers '
        'cut (%d)' % comp['tuned_same_script'],
        comp['tuned_same_cut'],
        None,
      ),
      (
        'composite, tuned half of the languages: body sentences wrongly cut',
        comp['tuned_body_cut'],
        None,
      ),
      (
        'composite, held-out half of the languages: same-script footers '
        'cut (%d)' % comp['held_same_script'],
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

  if 'footers' not in args.skip:
    texts = labelled_texts(os.path.join(args.data, 'langid', 'labelled.tsv'))
    languages = sorted({lang for lang, _ in texts})
    docs = composite_documents(texts, languages, args.per_language, args.sentences)
    sweep, chosen = short_fragment_sweep(config['language'], docs, set(languages[1::2]))
    print(
      'composite documents (%d): short same-script footers cut by the fastText agreement '
      '(language.short_fragment_fast_min_probability), tuned on the even-numbered languages, '
      'held out on the odd-numbered; chosen: %s (configured: %s)'
      % (len(docs), chosen, config['language']['short_fragment_fast_min_probability'])
    )
    print(
      _row(
        (
          'threshold',
          'tuned: same-script footers cut',
          'tuned: body sentences cut',
          'held-out: same-script footers cut',
          'held-out: body sentences cut',
          'all: cross-script footers cut',
          'all: body sentences cut',
        )
      )
    )
    print(_row(('---',) + ('---:',) * 6))
    for threshold, *figures in sweep:
      print(_row(['off' if threshold is None else threshold] + ['%.4f' % f for f in figures]))
    print()

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

  if not rows:
    return
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
