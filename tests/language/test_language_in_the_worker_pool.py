"""The language stage gives the same records whether it labels them in the
worker's pool of children (once extraction has started it) or in the worker
itself, and whether it takes the fields worked out ahead of the site
boilerplate's barrier (``LabelAhead``) or labels a record whose text changed
since; a record the detector fails on is the stage's dead letter either
way."""

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from configs.loading import load_config
from tests.helpers import ENGLISH, multi_story_page, story_html
from transforms import schema
from transforms.extract import ExtractArticles, build_articles
from transforms.language.detector import LABEL_SETS, LanguageDetector
from transforms.language.stage import (
  DetectLanguage,
  LabelAhead,
  fields_ahead,
  label_reads,
  worked_out_ahead,
)

GERMAN = [
  'Der Stadtrat hat am Montag beschlossen, die Straßenbahnlinie bis zum neuen '
  'Krankenhaus zu verlängern, ein Vorhaben, über das seit mehr als zehn Jahren '
  'gestritten wird.',
  'Die Bauarbeiten sollen im nächsten Frühjahr beginnen, und die ersten Bahnen '
  'sollen Ende 2027 fahren, sagte der Bürgermeister vor Journalisten.',
  'Die Anwohner der östlichen Viertel klagen seit langem, die Busse seien '
  'langsam und zur Hauptverkehrszeit überfüllt.',
]
FOOTERS = [
  'Laisser un commentaire',
  'Diese Website verwendet Cookies, um Ihnen das beste Erlebnis zu bieten.',
]


def pages():
  """Pages in two languages, some with a footer in a third."""
  out = []
  for n in range(8):
    story = (ENGLISH if n % 2 else GERMAN) + ([FOOTERS[n % 2]] if n % 3 else [])
    html = multi_story_page(story_html('Story %d' % n, *story))
    out.append({'url': 'https://news%d.example/story' % n, 'html': html})
  return out


def fields(record):
  return (
    record['url'],
    record['language'],
    record['language_score'],
    record['body'],
    tuple(r['text'] for r in record['removed']),
  )


def expected(config):
  """What the detector itself gives the extracted pages, in this process."""
  detector = LanguageDetector(config['language'])
  return [
    fields(detector.label(article))
    for page in pages()
    for article in build_articles(page, dict(config['extract'], timeout_seconds=0))
  ]


def test_records_labelled_in_the_pool_are_the_ones_the_detector_gives():
  config = load_config()
  extract_config = dict(config['extract'], processes=2)
  want = expected(config)
  assert any(removed for *_, removed in want)  # a footer is cut somewhere
  with TestPipeline() as p:
    extracted = p | beam.Create(pages()) | ExtractArticles(extract_config)
    # After a barrier, as in the pipeline: extraction has started the pool.
    articles = extracted.articles | beam.Reshuffle()
    labelled = articles | DetectLanguage(config['language'], extract_config)
    assert_that(labelled.articles | beam.Map(fields), equal_to(want), label='records')
    assert_that(labelled.dead_letter, equal_to([]), label='no dead letters')


def test_a_record_the_detector_fails_on_is_a_language_dead_letter():
  config = load_config()
  extract_config = dict(config['extract'], processes=2)
  broken = {'url': 'https://broken.example/', 'body': 12345}  # not text
  with TestPipeline() as p:
    extracted = p | 'Pages' >> beam.Create(pages()[:2]) | ExtractArticles(extract_config)
    articles = (
      (extracted.articles, p | 'Broken' >> beam.Create([broken]))
      | beam.Flatten()
      | beam.Reshuffle()
    )
    labelled = articles | DetectLanguage(config['language'], extract_config)
    assert_that(
      labelled.dead_letter | beam.Map(lambda d: (d['stage'], d['url'], d['error'].split(':')[0])),
      equal_to([('language', 'https://broken.example/', 'AttributeError')]),
      label='dead letter',
    )
    assert_that(
      labelled.articles | beam.Map(lambda r: r['url']),
      equal_to([p['url'] for p in pages()[:2]]),
      label='the others',
    )


def test_the_stage_without_a_pool_labels_as_the_detector_does():
  config = load_config()
  article = schema.new_article(url='https://a.example/', body='\n\n'.join(ENGLISH + [FOOTERS[0]]))
  with TestPipeline() as p:
    labelled = p | beam.Create([article]) | DetectLanguage(config['language'])
    assert_that(
      labelled.articles | beam.Map(fields),
      equal_to([fields(LanguageDetector(config['language']).label(article))]),
    )


def cut_last_paragraph(record):
  """What the site boilerplate does to some pages: a line cut from the body."""
  if record['url'].startswith('https://news2.') or record['url'].startswith('https://news5.'):
    paragraphs = record['body'].split('\n\n')
    removed = list(record.get('removed') or []) + [
      {'text': paragraphs[-1], 'reason': schema.BOILERPLATE}
    ]
    return dict(record, body='\n\n'.join(paragraphs[:-1]), removed=removed)
  return record


def test_fields_worked_out_ahead_are_taken_only_for_unchanged_text():
  config = load_config()
  extract_config = dict(config['extract'], processes=2)
  detector = LanguageDetector(config['language'])
  want = [
    fields(detector.label(cut_last_paragraph(article)))
    for page in pages()
    for article in build_articles(page, dict(config['extract'], timeout_seconds=0))
  ]
  with TestPipeline() as p:
    extracted = p | beam.Create(pages()) | ExtractArticles(extract_config)
    ahead = extracted.articles | LabelAhead(config['language'], extract_config)
    assert_that(
      ahead | 'Ahead' >> beam.Map(lambda r: schema.LANGUAGE_AHEAD in r),
      equal_to([True] * len(want)),
      label='labelled ahead, in the pool extraction started',
    )
    # The barrier, and the site boilerplate cutting lines of two pages.
    articles = ahead | beam.Reshuffle() | beam.Map(cut_last_paragraph)
    labelled = articles | DetectLanguage(config['language'], extract_config)
    assert_that(labelled.articles | beam.Map(fields), equal_to(want), label='records')
    assert_that(
      labelled.articles | 'Dropped' >> beam.Map(lambda r: schema.LANGUAGE_AHEAD in r),
      equal_to([False] * len(want)),
      label='never written',
    )


def test_a_record_whose_text_changed_is_not_given_the_fields_of_before():
  config = load_config()
  extract_config = dict(config['extract'], timeout_seconds=0)
  article = build_articles(pages()[2], extract_config)[0]
  labelled = LanguageDetector(config['language']).label(article)
  set_fields = {k: labelled[k] for k in LABEL_SETS}
  carried = dict(
    article, **{schema.LANGUAGE_AHEAD: worked_out_ahead(label_reads(article), set_fields)}
  )
  assert fields_ahead(carried, label_reads(article)) == set_fields
  changed = cut_last_paragraph(carried)
  assert fields_ahead(changed, label_reads(changed)) is None
  assert fields_ahead(article, label_reads(article)) is None  # nothing carried
