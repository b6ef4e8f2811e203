"""The language stage gives the same records whether it labels them in the
worker's pool of children (once extraction has started it) or in the worker
itself; a record the detector fails on is the stage's dead letter either
way."""

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from configs.loading import load_config
from tests.helpers import ENGLISH, multi_story_page, story_html
from transforms import schema
from transforms.extract import ExtractArticles, build_articles
from transforms.language.detector import LanguageDetector
from transforms.language.stage import DetectLanguage

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
