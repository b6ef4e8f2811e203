"""newsbeam's configuration as typed models (pydantic v2).

One model per section of ``configs/default.yaml`` and a root model,
`Settings`. The models hold each setting's default, its constraints and a
one-line description: `configs.loading` validates a merged configuration
with them, `reference_markdown()` renders the documentation's configuration
reference from them, and a test keeps ``default.yaml`` (the annotated example
users read) equal to their defaults.

The models are strict, as the hand-written checks before them were: a number
given as text, 1.5 for a whole number or "yes" for true is an error, and so
is a key no model knows (`extra='forbid'`).
"""

import difflib
import json
import os
import typing
from typing import Annotated, Any, Dict, List, Literal, Optional, Tuple

import annotated_types
from pydantic import (
  AfterValidator,
  BaseModel,
  ConfigDict,
  Field,
  ValidationError,
  WrapValidator,
  field_validator,
  model_validator,
)
from pydantic_core import PydanticCustomError

# A custom error whose message follows the key (`<key> <message>`), and one
# whose message names its keys itself (checks across keys).
_VALUE_ERROR = 'newsbeam'
_KEYED_ERROR = 'newsbeam_keyed'


def _non_empty(value: str) -> str:
  if not value.strip():
    raise PydanticCustomError(_VALUE_ERROR, 'must be a non-empty string')
  return value


NonEmptyStr = Annotated[str, AfterValidator(_non_empty)]


def _keep_int(value: Any, handler) -> Any:
  result = handler(value)
  return value if type(value) is int else result


# A number, int or float; a whole number stays an int (Beam's triggers and
# ranges take no 10.0 for 10).
Number = Annotated[float, WrapValidator(_keep_int)]


def _language_codes(value: List[str]) -> List[str]:
  if not all(len(code) == 2 for code in value):
    raise PydanticCustomError(_VALUE_ERROR, 'must be a list of ISO 639-1 codes, e.g. [en, de]')
  return value


def _language_groups(value: List[List[str]]) -> List[List[str]]:
  if not all(len(code) == 2 for group in value for code in group):
    raise PydanticCustomError(
      _VALUE_ERROR, 'must be a list of lists of ISO 639-1 codes, e.g. [[ms, id], [bs, hr, sr]]'
    )
  return value


LanguageCodes = Annotated[List[str], AfterValidator(_language_codes)]
LanguageGroups = Annotated[List[List[str]], AfterValidator(_language_groups)]


class Section(BaseModel):
  """A section of the configuration: strict, and no key it does not know."""

  model_config = ConfigDict(extra='forbid', strict=True, validate_default=True)


class InputsSettings(Section):
  """Inputs used when neither --feeds nor --scraped is given; relative paths
  are taken from the config file's folder."""

  feeds: List[str] = Field(
    ['../sample/feeds/*'], description='Feed files, globs or URLs (RSS, Atom, JSON Feed).'
  )
  scraped: List[str] = Field(
    ['../sample/scraped/*.jsonl*'], description='Scraped page files or globs (JSON Lines).'
  )


class ReadSettings(Section):
  """Reading input records."""

  max_record_bytes: int = Field(
    20000000, ge=1, description='A scraped line or feed document larger than this is a dead letter.'
  )
  scraped_split_bytes: int = Field(
    4 * 1024 * 1024,
    ge=1,
    description=(
      'A scraped JSON Lines file is read in spans of whole lines, on different workers: '
      'a span ends once it holds this many bytes or scraped_split_lines lines.'
    ),
  )
  scraped_split_lines: int = Field(
    500, ge=1, description='A span of a scraped file ends once it holds this many lines.'
  )
  warc_split_bytes: int = Field(
    64 * 1024 * 1024,
    ge=1,
    description='A WARC file is read in spans of about this many bytes, on different workers.',
  )
  sitemap_max_depth: int = Field(
    3, ge=0, description='How many levels of sitemap indexes below a --sitemaps spec are followed.'
  )
  sitemap_max_files: int = Field(
    1000, ge=1, description='At most this many sitemaps are read for one --sitemaps spec.'
  )


class FetchSettings(Section):
  """Fetching feed URLs and, with --fetch-articles, the pages entries link to."""

  connect_timeout: Number = Field(10, ge=0.01, description='Seconds to wait for a connection.')
  read_timeout: Number = Field(
    20, ge=0.01, description='Seconds to wait for each read of a response.'
  )
  total_timeout: Number = Field(
    120, ge=0.01, description='A response body still arriving after this many seconds is abandoned.'
  )
  retries: int = Field(
    3, ge=0, description='Tries after the first on a connection error, timeout, 429 or 5xx.'
  )
  backoff: Number = Field(1.0, ge=0, description='First wait between tries (seconds); it doubles.')
  max_backoff: Number = Field(
    60, ge=0, description='Longest wait between tries; a longer Retry-After makes a dead letter.'
  )
  max_redirects: int = Field(5, ge=0, description='Redirects followed per request.')
  max_bytes: int = Field(
    10000000, ge=1, description='A larger response (after gzip) is a dead letter `too_large`.'
  )
  user_agent: NonEmptyStr = Field(
    'newsbeam/0.1 (+https://github.com/newsbeam/newsbeam)',
    description='The User-Agent header of every request.',
  )
  per_host_concurrency: int = Field(
    2, ge=1, description='Requests at once per host, in each worker process.'
  )
  per_host_delay: Number = Field(
    1.0, ge=0, description='Seconds between the starts of two requests to a host, per worker.'
  )
  respect_robots: bool = Field(True, description='Honour robots.txt for article pages.')
  robots_cache_sites: int = Field(
    1000, ge=1, description='Sites whose robots.txt rules a worker keeps (least recently used go).'
  )
  state_path: Optional[NonEmptyStr] = Field(
    None,
    description='Feeds\' ETag/Last-Modified kept between runs (local or gs://); '
    'null: every run fetches everything.',
  )


class ExtractSettings(Section):
  """Main text extraction from HTML pages (trafilatura)."""

  favor: Literal['precision', 'balanced', 'recall'] = Field(
    'balanced', description='trafilatura\'s precision/recall trade-off.'
  )
  min_extracted_chars: int = Field(
    200, ge=0, description='Shorter extractions are tried again favouring recall.'
  )
  max_html_bytes: int = Field(
    3000000, ge=1000, description='HTML over this many bytes is cut to them before extraction.'
  )
  timeout_seconds: Number = Field(
    30,
    ge=0,
    description='Time budget per page, CPU seconds of extraction (a dead letter `timeout` past '
    'it; ten times as many wall-clock seconds stop a hang); 0: none.',
  )
  processes: int = Field(
    0,
    ge=0,
    description='Child processes per worker process, shared by its threads, that extraction '
    '(and then language detection) runs in; 0: one per CPU core (a local multi_processing '
    'worker: its share of the cores).',
  )
  progress_seconds: Number = Field(
    30, ge=0, description='How often each worker logs its progress (seconds); 0: never.'
  )
  story_min_paragraphs: int = Field(
    2, ge=1, description='Paragraphs an <article> needs to be a story of a multi-story page.'
  )
  story_min_words: int = Field(
    40, ge=0, description='Words an <article> needs to be a story of a multi-story page.'
  )
  lead_min_words: int = Field(
    8, ge=0, description='Shortest lead (standfirst) put back before the story; 0: never.'
  )
  mode: Literal['fast', 'balanced', 'best'] = Field(
    'balanced',
    description='Main text: trafilatura without fallbacks alone (fast); it, readability and '
    'resiliparse voting, two of three (balanced); or with its fallbacks and jusText, three of '
    'four (best).',
  )
  vote_min_share: Number = Field(
    0.5, ge=0, le=1, description='An extractor holds a paragraph with this share of its words.'
  )


class CleanSettings(Section):
  """Cleaning extracted text: headlines, bylines, boilerplate lines."""

  max_headline_words: int = Field(
    25, ge=1, description='A line of at most this many words may be a headline.'
  )
  min_story_words: int = Field(
    40, ge=0, description='Words after a doubled headline for it to start a new story.'
  )
  site_name_max_words: int = Field(
    4, ge=1, description='Longest site name cut from a title\'s tail, in words.'
  )
  headline_search_paragraphs: int = Field(
    3, ge=1, description='First paragraphs searched for the headline repeated in the body.'
  )
  max_byline_words: int = Field(
    12, ge=1, description='Longest line, in words, that may be a byline or date line.'
  )
  byline_lines: List[str] = Field(
    [
      '(by|von|par|por|di|door|av|af|przez) [^\\W\\d][^.!?]{0,80}',
      '(published|updated|posted|last updated|posted on)\\b.{0,80}',
      '(\\w+,? )?\\d{1,2}(st|nd|rd|th)?\\.? \\w+\\.? \\d{4}\\b.{0,40}',
      '(\\w+,? )?\\w+\\.? \\d{1,2}(st|nd|rd|th)?,? \\d{4}\\b.{0,40}',
      '\\d{4}-\\d{2}-\\d{2}\\b.{0,40}',
      '\\d{1,2}[./]\\d{1,2}[./]\\d{2,4}\\b.{0,40}',
    ],
    description='Byline and date lines (regular expressions, whole line, any case).',
  )
  boilerplate_lines: List[str] = Field(
    [
      'post a comment',
      '(leave a|write a|add a|post a) (comment|reply)',
      '(laisser|laissez|ajouter|écrire) un (commentaire|avis)|(kommentar|antwort) '
      '(schreiben|hinterlassen|verfassen)|(deja|dejar|escribe|escribir) (un|una) '
      '(comentario|respuesta)|lascia un commento|(deixe|deixar) (um|seu) comentário',
      'previous (post|article|story)( next (post|article|story))?',
      'next (post|article|story)( previous (post|article|story))?',
      '(ad|ads|advertisement|advertising|sponsored|sponsored content)( news)?',
      '(share|share this( article| story| post| page)?|share (it )?(on|via|with) '
      '\\w+( \\w+)?|tweet( this)?|email|print)[:!]?',
      '(read|see) (more|also|next)[:.]?.{0,80}',
      '(related|recommended|popular|trending|most read|more) (posts|articles|stories|news)[:]?',
      'subscribe( to our newsletter)?[.!]?',
      '(click|tap) here.{0,80}',
      '(all rights reserved|copyright ©?|©).{0,120}',
      '(we use cookies|this (web)?site uses cookies).{0,300}',
      '(photo|image|video|picture)( credit)?:.{0,120}',
      '(tags|categories|filed under):.{0,200}',
      '(follow us|like us|join us) on.{0,120}',
      'contact (us|form)',
      'loading\\.*',
      '(order )?reprints?|print (this )?(article|story|page)',
      'like this (story|article|post)\\?.{0,80}',
      'also on [\\w-]+\\.[a-z]{2,}\\b.{0,200}',
      "(write to|e-?mail) [\\w.' -]{2,60} at \\S+@[\\w-]+\\.[\\w.]+( or follow .{0,160})?",
      'an error (has )?occurred.{0,80}',
      'tags|categories',
      'sign up (for|to) (our|the) .{0,150}',
    ],
    description='Boilerplate lines (regular expressions, whole line, any case).',
  )
  disclaimer_prefixes: List[str] = Field(
    [
      'disclaimer:',
      'disclosure:',
      'the views expressed',
      'this article (only )?represents the author',
      'this copy is for your personal',
    ],
    description='A line starting with one of these is a disclaimer and cut whole.',
  )
  share_words: List[str] = Field(
    (
      'facebook twitter x telegram reddit vk pinterest youtube linkedin whatsapp email print tumblr instagram tiktok '
      'share tweet external-link messenger copy link mail flipboard pocket sms line viber skype threads bluesky'
    ).split(),
    description='Words of share-button rows.',
  )
  share_row_min_share: Number = Field(
    0.8, ge=0, le=1, description='Share of share words that makes a line a share-button row.'
  )
  share_row_max_words: int = Field(
    40, ge=1, description='Longest line, in words, that may be a share-button row.'
  )


class BoilerplateSettings(Section):
  """Site boilerplate learned over a run: lines repeated across a domain's
  pages are cut from all of them."""

  min_pages: int = Field(
    3, ge=1, description='Pages of a domain a line must appear on to be its template.'
  )
  min_share: Number = Field(
    0.3, ge=0, le=1, description='Share of a domain\'s pages a line must appear on.'
  )
  max_cut_share: Number = Field(
    0.5, ge=0, le=1, description='A page with more of its words in such lines is a copy: no cut.'
  )


class LanguageSettings(Section):
  """Language detection of documents and of foreign fragments in them."""

  backend: Literal['langdetect', 'lingua'] = Field('lingua', description='The detector.')
  lingua_low_accuracy: bool = Field(
    True, description='lingua only: its fast mode (trigram models).'
  )
  max_chars: int = Field(
    1000, ge=50, description='Characters given to the detector for the document language.'
  )
  seed: int = Field(0, ge=0, description='langdetect\'s seed (deterministic detection).')
  fragment_min_words: int = Field(
    3, ge=1, description='Fewest words with letters for a fragment to be judged.'
  )
  fragment_min_chars: int = Field(
    0, ge=0, description='Fewest characters for a fragment to be judged.'
  )
  fragment_max_capitalized_share: Number = Field(
    0.5, ge=0, le=1, description='A fragment with more capitalized words is not judged.'
  )
  fragment_max_chars: int = Field(
    300, ge=1, description='Characters of a fragment the detector reads.'
  )
  main_languages: LanguageCodes = Field(
    'en es de fr ru pt it nl pl tr fa vi id cs uk ar hu sv el ro da ja zh ko'.split(),
    description='The web\'s main content languages, weighed first (ISO 639-1).',
  )
  fragment_min_probability: Number = Field(
    0.95,
    ge=0,
    le=1,
    description='A fragment is cut when the document\'s language gets at most 1 - this.',
  )
  fast_mode_min_chars: int = Field(
    120, ge=0, description='Shorter fragments are cut only if lingua\'s full models agree.'
  )
  short_fragment_languages: Literal['main', 'all', 'none'] = Field(
    'main', description='Which short fragments may be cut (main: in main_languages).'
  )
  short_fragment_fast_min_probability: Optional[Number] = Field(
    0.3,
    ge=0,
    le=1,
    description='main: a short fragment in another language is cut if fastText agrees this sure.',
  )
  close_languages: LanguageGroups = Field(
    [
      ['ms', 'id'],
      ['bs', 'hr', 'sr'],
      ['nb', 'nn', 'da'],
      ['cs', 'sk'],
      ['be', 'ru', 'uk'],
      ['bg', 'mk'],
      ['hi', 'mr'],
      ['af', 'nl'],
      ['zu', 'xh'],
      ['st', 'tn'],
    ],
    description='Groups of languages detectors confuse: a close relative is never cut.',
  )
  fragment_max_cut_share: Number = Field(
    0.5, ge=0, le=1, description='More foreign words than this share: the label is wrong, no cut.'
  )
  foreign_script_share: Number = Field(
    0.5,
    ge=0,
    le=1,
    description='A fragment is in another script when this share of its letters is.',
  )
  fast_detector: Literal['fasttext', 'none'] = Field(
    'fasttext', description='A cheaper detector asked first (fasttext), or none.'
  )
  fast_document_min_probability: Number = Field(
    0.9, ge=0, le=1, description='fastText\'s document label is taken from this probability.'
  )
  fast_fragment_min_probability: Number = Field(
    0.8, ge=0, le=1, description='A paragraph fastText reads as the document\'s language is kept.'
  )
  declared_language_below_score: Number = Field(
    0.5,
    ge=0,
    le=1,
    description='A sitemap\'s news:language is taken when the detector scores its label under this.',
  )


class FilterSettings(Section):
  """Records kept or rejected."""

  min_words: int = Field(
    50, ge=0, description='Bodies with fewer words are rejected as too_short (--min-words).'
  )


class DedupSettings(Section):
  """Near-duplicates: MinHash over word shingles, LSH banding."""

  shingle_words: int = Field(5, ge=1, description='Words per shingle.')
  num_perm: int = Field(128, ge=1, description='MinHash permutations (a multiple of bands).')
  bands: int = Field(32, ge=1, description='LSH bands.')
  threshold: Number = Field(
    0.8, ge=0, le=1, description='Estimated Jaccard from which a candidate pair is a duplicate.'
  )
  containment: Number = Field(
    0.9, ge=0, le=1, description='... or share of the shorter text inside the longer.'
  )
  max_bucket: int = Field(
    1000, ge=2, description='Records of a band bucket compared (guards against hot buckets).'
  )
  index: Optional[str] = Field(
    None, description='Published-records index (folder or gs:// prefix); null: <output>/_index.'
  )
  index_shards: int = Field(4, ge=1, description='Files each run writes its index entries into.')
  stream_horizon_days: Number = Field(
    7, ge=0, description='Days a stream remembers a published story.'
  )

  @model_validator(mode='after')
  def _bands_divide_permutations(self):
    if self.num_perm % self.bands:
      raise PydanticCustomError(_KEYED_ERROR, 'dedup.num_perm must be a multiple of dedup.bands')
    return self


class TrainingSettings(Section):
  """pipelines.train_classifier's model settings."""

  word_min_df: int = Field(2, ge=1, description='Training texts a word 1-2 gram must occur in.')
  word_features: Optional[int] = Field(100000, ge=1, description='Word n-grams kept (null: all).')
  char_min_df: int = Field(
    3, ge=1, description='Training texts a character 3-5 gram must occur in.'
  )
  char_features: Optional[int] = Field(
    150000, ge=1, description='Character n-grams kept (null: all).'
  )
  regularization: Number = Field(
    10.0, ge=1e-6, description='Inverse regularization strength of the logistic regression.'
  )
  calibration_folds: int = Field(
    3, ge=2, description='Folds whose held-out predictions calibrate the scores.'
  )
  short_variants: bool = Field(
    True, description='Also learn headline and first-sentence variants of each article.'
  )
  balanced_topics: bool = Field(
    True, description='Weigh each topic equally in training, however many examples it has.'
  )


class ClassifySettings(Section):
  """Topics (IPTC Media Topics) from a trained model."""

  model: Optional[NonEmptyStr] = Field(
    None, description='Model file (local or gs://); null: the packaged model.'
  )
  packaged: Literal['ngrams', 'e5'] = Field(
    'ngrams',
    description='Packaged model when model is null: ngrams (fast) or e5 (needs newsbeam[e5]).',
  )
  min_score: Number = Field(0.5, ge=0, le=1, description='Topics scoring below this are left out.')
  max_topics: int = Field(3, ge=1, description='Most topics per article.')
  max_chars: int = Field(4000, ge=1, description='Characters of title and body the model reads.')
  min_batch_size: int = Field(16, ge=1, description='Fewest articles per RunInference batch.')
  max_batch_size: int = Field(256, ge=1, description='Most articles per RunInference batch.')
  label_names: Dict[str, str] = Field(
    {
      'business': 'medtop:04000000',
      'entertainment': 'medtop:01000000',
      'politics': 'medtop:11000000',
      'sport': 'medtop:15000000',
      'tech': 'medtop:13000000',
    },
    description='Training labels accepted besides IPTC codes: label -> taxonomy code.',
  )
  training: TrainingSettings = Field(
    default_factory=TrainingSettings, description='pipelines.train_classifier\'s model settings.'
  )

  @field_validator('model')
  @classmethod
  def _model_file_exists(cls, model):
    if model is not None and '://' not in model and not os.path.isfile(model):
      raise PydanticCustomError(_VALUE_ERROR, ': no model file at {path}', {'path': model})
    return model

  @model_validator(mode='after')
  def _batch_sizes(self):
    if self.max_batch_size < self.min_batch_size:
      raise PydanticCustomError(
        _KEYED_ERROR,
        'classify.max_batch_size must be at least classify.min_batch_size (%d), got %d'
        % (self.min_batch_size, self.max_batch_size),
      )
    return self


class OutputSettings(Section):
  """Output files."""

  compress: bool = Field(False, description='Write .jsonl.gz part files instead of .jsonl.')
  format: Literal['jsonl', 'parquet'] = Field(
    'jsonl', description='Part file format (--format); streams always write JSON Lines.'
  )


class StreamSettings(Section):
  """Streaming (pipelines.stream)."""

  poll_interval: Number = Field(
    60, ge=1, description='Seconds between two polls of the feeds (--poll-interval).'
  )
  window_minutes: int = Field(
    10, ge=1, description='Streaming graph: output files per event-time window of this length.'
  )
  early_firing_seconds: Number = Field(
    10, ge=0, description='Early panes this many seconds after a window\'s first record; 0: none.'
  )
  allowed_lateness_minutes: int = Field(
    60, ge=0, description='Records up to this late still go to their window.'
  )
  shards_per_window: int = Field(1, ge=1, description='Files per window and pane of each output.')


_TAXONOMY = {
  'medtop:01000000': 'arts, culture, entertainment and media',
  'medtop:02000000': 'crime, law and justice',
  'medtop:03000000': 'disaster, accident and emergency incident',
  'medtop:04000000': 'economy, business and finance',
  'medtop:05000000': 'education',
  'medtop:06000000': 'environment',
  'medtop:07000000': 'health',
  'medtop:08000000': 'human interest',
  'medtop:09000000': 'labour',
  'medtop:10000000': 'lifestyle and leisure',
  'medtop:11000000': 'politics',
  'medtop:12000000': 'religion',
  'medtop:13000000': 'science and technology',
  'medtop:14000000': 'society',
  'medtop:15000000': 'sport',
  'medtop:16000000': 'conflict, war and peace',
  'medtop:17000000': 'weather',
}


class Settings(Section):
  """newsbeam's whole configuration."""

  inputs: InputsSettings = Field(default_factory=InputsSettings, description='Default inputs.')
  read: ReadSettings = Field(default_factory=ReadSettings, description='Reading records.')
  fetch: FetchSettings = Field(default_factory=FetchSettings, description='Fetching URLs.')
  extract: ExtractSettings = Field(
    default_factory=ExtractSettings, description='Main text extraction.'
  )
  clean: CleanSettings = Field(default_factory=CleanSettings, description='Text cleaning.')
  boilerplate: BoilerplateSettings = Field(
    default_factory=BoilerplateSettings, description='Site boilerplate learned over a run.'
  )
  language: LanguageSettings = Field(
    default_factory=LanguageSettings, description='Language detection.'
  )
  filter: FilterSettings = Field(default_factory=FilterSettings, description='Record filter.')
  dedup: DedupSettings = Field(default_factory=DedupSettings, description='Deduplication.')
  classify: ClassifySettings = Field(
    default_factory=ClassifySettings, description='Topic classification.'
  )
  output: OutputSettings = Field(default_factory=OutputSettings, description='Output files.')
  stream: StreamSettings = Field(default_factory=StreamSettings, description='Streaming.')
  taxonomy: Dict[str, str] = Field(
    _TAXONOMY, description='IPTC Media Topics, top level: code -> label.'
  )

  @field_validator('taxonomy')
  @classmethod
  def _medtop_codes(cls, taxonomy):
    for code in taxonomy:
      if not code.startswith('medtop:'):
        raise PydanticCustomError(
          _KEYED_ERROR,
          'taxonomy.{code}: taxonomy entries must map medtop:NNNNNNNN codes to labels',
          {'code': code},
        )
    return taxonomy

  @model_validator(mode='after')
  def _label_names_in_taxonomy(self):
    for name, code in self.classify.label_names.items():
      if code not in self.taxonomy:
        raise PydanticCustomError(
          _KEYED_ERROR,
          'classify.label_names.{name}: classify.label_names must map label names to taxonomy '
          'codes, and {code} is not in taxonomy',
          {'name': name, 'code': code},
        )
    return self


# Error messages.


def _location(loc: Tuple[Any, ...]) -> str:
  text = ''
  for part in loc:
    text += '[%d]' % part if isinstance(part, int) else ('.%s' % part if text else str(part))
  return text


def _model_at(loc: Tuple[Any, ...]) -> Optional[type]:
  """The model whose field is `loc`'s last part, or None."""
  model = Settings
  for part in loc[:-1]:
    field = model.model_fields.get(part) if isinstance(part, str) else None
    annotation = field.annotation if field else None
    if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
      return None
    model = annotation
  return model


def _shown(value: Any) -> str:
  text = repr(value)
  return text if len(text) <= 80 else text[:77] + '...'


_TYPE_MESSAGES = {
  'int_type': 'must be a whole number',
  'int_from_float': 'must be a whole number',
  'int_parsing': 'must be a whole number',
  'float_type': 'must be a number',
  'float_parsing': 'must be a number',
  'finite_number': 'must be a finite number',
  'bool_type': 'must be true or false',
  'bool_parsing': 'must be true or false',
  'string_type': 'must be a string',
  'list_type': 'must be a list',
  'dict_type': 'must be a mapping',
  'model_type': 'must be a mapping',
  'model_attributes_type': 'must be a mapping',
}


def error_message(error: Dict[str, Any]) -> str:
  """One pydantic error as `<section>.<key> <what is wrong> (got <value>)`."""
  loc, kind, ctx = tuple(error['loc']), error['type'], error.get('ctx') or {}
  key = _location(loc)
  if kind == 'extra_forbidden':
    model = _model_at(loc)
    known = sorted(model.model_fields) if model else []
    what = 'unknown section' if len(loc) == 1 else 'unknown key'
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    if close:
      return '%s: %s (did you mean %s?)' % (key, what, close[0])
    return '%s: %s (known: %s)' % (key, what, ', '.join(known))
  if kind == _KEYED_ERROR:
    return error['msg']
  if kind == _VALUE_ERROR:
    message = error['msg']
    return key + message if message.startswith(':') else '%s %s' % (key, message)
  if kind in _TYPE_MESSAGES:
    message = _TYPE_MESSAGES[kind]
  elif kind == 'greater_than_equal':
    message = 'must be at least %s' % ctx['ge']
  elif kind == 'less_than_equal':
    message = 'must be at most %s' % ctx['le']
  elif kind == 'literal_error':
    message = 'must be %s' % str(ctx['expected']).replace("'", '')
  else:
    message = '%s: %s' % (kind, error['msg'])
  return '%s %s (got %s)' % (key, message, _shown(error['input']))


def error_messages(error: ValidationError) -> List[str]:
  return [error_message(e) for e in error.errors()]


# The documentation's reference.

_SCALARS = {int: 'integer', float: 'number', bool: 'boolean', str: 'string'}


def _type_text(annotation: Any) -> str:
  origin, args = typing.get_origin(annotation), typing.get_args(annotation)
  if origin is Annotated:
    return _type_text(args[0])
  if origin is typing.Union:
    named = [_type_text(a) for a in args if a is not type(None)]
    return ' or '.join(named) + (' or null' if type(None) in args else '')
  if origin is Literal:
    return 'one of ' + ', '.join('`%s`' % a for a in args)
  if origin in (list, List):
    inner = _type_text(args[0])
    return 'list of ' + (
      inner.replace('list of', 'lists of', 1) if inner.startswith('list') else inner + 's'
    )
  if origin in (dict, Dict):
    return 'mapping of %s to %s' % (_type_text(args[0]), _type_text(args[1]))
  if isinstance(annotation, type) and issubclass(annotation, BaseModel):
    return 'section'
  return _SCALARS.get(annotation, getattr(annotation, '__name__', str(annotation)))


def _constraints(field) -> str:
  bounds = []
  for item in field.metadata:
    if isinstance(item, annotated_types.Ge):
      bounds.append('≥ %s' % item.ge)
    elif isinstance(item, annotated_types.Le):
      bounds.append('≤ %s' % item.le)
  return ', '.join(bounds)


def _cell(text: str) -> str:
  return text.replace('|', '\\|').replace('\n', ' ')


def _default_text(value: Any) -> str:
  return json.dumps(value, ensure_ascii=False)


_LONG_DEFAULT = 60


def _section_markdown(name: str, model: type, level: int) -> List[str]:
  lines = ['%s `%s`' % ('#' * level, name), '']
  if model.__doc__:
    lines += [' '.join(model.__doc__.split()), '']
  lines += ['| field | type | default | description |', '| --- | --- | --- | --- |']
  long_defaults, nested = [], []
  for key, field in model.model_fields.items():
    annotation = field.annotation
    kind = _type_text(annotation)
    bounds = _constraints(field)
    if bounds:
      kind += ', ' + bounds
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
      nested.append(('%s.%s' % (name, key), annotation))
      default = 'see `%s.%s`' % (name, key)
    else:
      value = field.get_default(call_default_factory=True)
      default = _default_text(value)
      if len(default) > _LONG_DEFAULT:
        long_defaults.append((key, value))
        default = 'see below'
      else:
        default = '`%s`' % default
    lines.append(
      '| `%s` | %s | %s | %s |' % (key, _cell(kind), _cell(default), _cell(field.description or ''))
    )
  lines.append('')
  for key, value in long_defaults:
    lines += ['Default of `%s.%s`:' % (name, key), '', '```yaml']
    if isinstance(value, dict):
      lines += ['%s: %s' % (k, _default_text(v)) for k, v in value.items()]
    else:
      lines += ['- %s' % _default_text(v) for v in value]
    lines += ['```', '']
  for nested_name, nested_model in nested:
    lines += _section_markdown(nested_name, nested_model, level + 1)
  return lines


def reference_markdown() -> str:
  """The configuration reference in Markdown, from the models: per section a
  heading and a table of field | type | default | description."""
  lines = [
    '# Configuration reference',
    '',
    'Every setting, its type, default and meaning. `configs/default.yaml` holds '
    'the same defaults with longer comments; a file given with `--config` is '
    'merged over it and names only what it changes. Unknown keys are errors.',
    '',
  ]
  for name, field in Settings.model_fields.items():
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
      lines += _section_markdown(name, annotation, 2)
      continue
    lines += ['## `%s`' % name, '', field.description or '', '']
    value = field.get_default(call_default_factory=True)
    lines += ['| key | value |', '| --- | --- |']
    lines += ['| `%s` | %s |' % (_cell(k), _cell(str(v))) for k, v in value.items()]
    lines.append('')
  return '\n'.join(lines).rstrip('\n') + '\n'
