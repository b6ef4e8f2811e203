"""The language stage: each record labelled with its language by
``LanguageDetector`` (``detector.py``), its foreign fragments cut. A page a
news sitemap declares in a language (news:language, the record's
`fallback`) takes that language where the detector cannot tell."""

import hashlib
import json
from typing import Any, Dict, List, Optional

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms import schema
from transforms.language.detector import LABEL_READS, labelled_fields
from transforms.worker_pool import PooledRecordStageFn

STAGE = 'language'


def with_declared_language(
  article: Dict[str, Any], declared: Optional[str], min_score: float
) -> Dict[str, Any]:
  """The labelled `article` with the language its publisher declares
  (`declared`, ISO 639-1) where the detector gave none, or one it scores
  under `min_score` (a text too short or too mixed to tell); the detector's
  confident label stands. `language_score` is then None: the detector did
  not give that language, and a warning says whose it is."""
  language, score = article.get('language'), article.get('language_score') or 0.0
  if not declared or declared == language or (language and score >= min_score):
    return article
  said = '%s at %.2f' % (language, score) if language else 'none'
  return dict(
    article,
    language=declared,
    language_score=None,
    warnings=list(article.get('warnings') or [])
    + ['language from the sitemap\'s news:language; the detector said %s' % said],
  )


def label_reads(article: Dict[str, Any]) -> Dict[str, Any]:
  """What the detector reads of a record (LABEL_READS)."""
  return {k: article.get(k) for k in LABEL_READS}


def reads_digest(reads: Dict[str, Any]) -> str:
  return hashlib.sha256(
    json.dumps(reads, sort_keys=True, ensure_ascii=False, default=str).encode('utf-8')
  ).hexdigest()


def worked_out_ahead(reads: Dict[str, Any], fields: Dict[str, Any]) -> Dict[str, Any]:
  """What a record carries from ``LabelAhead``: the digest of what the
  detector read, and the fields it set (the body and cut fragments only
  where it changed them)."""
  return {
    'from': reads_digest(reads),
    'fields': {k: v for k, v in fields.items() if k not in reads or reads[k] != v},
  }


def fields_ahead(article: Dict[str, Any], reads: Dict[str, Any]) -> Optional[Dict[str, Any]]:
  """The language fields ``LabelAhead`` worked out for the record, if it
  did and from what the detector reads of it now; else None."""
  ahead = article.get(schema.LANGUAGE_AHEAD)
  if ahead is None or ahead['from'] != reads_digest(reads):
    return None
  return dict(reads, **ahead['fields'])


class LabelAhead(beam.PTransform):
  """Cleaned records -> the same records, each with its language fields
  worked out ahead (``schema.LANGUAGE_AHEAD``), before the site
  boilerplate's barrier.

  The barrier waits for the whole input; what comes after it ran on the
  worker and one child while the other cores idled. Labelled here, in the
  pool's language child while the others extract, the language stage
  after the barrier takes these fields for each record whose text the site
  boilerplate left as it was, and labels the others itself: the same fields
  either way, since the detector reads nothing else. Only where extraction
  started the pool; a record this could not label goes on without them.
  """

  def __init__(self, language_config: Dict[str, Any], extract_config: Dict[str, Any]):
    super().__init__()
    self._config = language_config
    self._pool_config = extract_config

  def expand(self, articles):
    return articles | 'LabelAhead' >> beam.ParDo(_LabelAheadFn(self._config, self._pool_config))


class _LabelAheadFn(PooledRecordStageFn):
  STAGE = STAGE

  def __init__(self, config, extract_config):
    # One child, the language stage's own: each child that labels loads
    # lingua's full models of the languages it meets (15 to 30 MB and about
    # 0.2 s of CPU each); the other children extract meanwhile.
    super().__init__(extract_config, starts_pool=False, children=1)
    self._config = config

  def outputs(self, article):
    yield article  # no pool: the language stage labels it

  def work(self, article, run):
    reads = label_reads(article)
    return reads, run(labelled_fields, self._config, reads)

  def emitted(self, article, result):
    reads, fields = result
    return [dict(article, **{schema.LANGUAGE_AHEAD: worked_out_ahead(reads, fields)})]

  def failed(self, article, error) -> List[Any]:
    return [article]  # the language stage labels it, or makes its dead letter


class DetectLanguage(beam.PTransform):
  """Cleaned records -> records with `language`, foreign fragments cut.

  `extract_config`: the worker's pool of children (`timeout_seconds`,
  `processes`) the detection runs in, several records at a time, when
  extraction has started it (plain-text records start no child); None, or a
  budget of 0: in the worker itself."""

  def __init__(
    self, language_config: Dict[str, Any], extract_config: Optional[Dict[str, Any]] = None
  ):
    super().__init__()
    self._config = language_config
    self._pool_config = extract_config or {'timeout_seconds': 0, 'processes': 0}

  def expand(self, articles):
    return articles | 'DetectLanguage' >> beam.ParDo(
      _LanguageFn(self._config, self._pool_config)
    ).with_outputs(schema.DEAD_LETTER, main='articles')


class _LanguageFn(PooledRecordStageFn):
  """Labels records in a child of the worker's pool (it loads its
  detector on first use) once extraction has started the pool, else in the
  worker."""

  STAGE = STAGE

  def __init__(self, config, extract_config):
    # One child: each child loads the models of the languages it meets
    # (about 0.3 s of CPU each), and the worker runs the stages after this
    # one meanwhile, so two cores are busy without loading them twice.
    super().__init__(extract_config, starts_pool=False, children=1)
    self._config = config
    self._cut = Metrics.counter(STAGE, 'foreign_fragments_cut')
    self._declared = Metrics.counter(STAGE, 'declared_language_taken')

  def work(self, article, run):
    """The detector's fields of the record (``labelled_fields``, run by
    `run`, in a child), sent only what the detector reads."""
    reads = label_reads(article)
    ahead = fields_ahead(article, reads)
    return ahead if ahead is not None else run(labelled_fields, self._config, reads)

  def emitted(self, article, fields):
    declared = (article.get(schema.FALLBACK) or {}).get('language')
    article = {
      k: v for k, v in article.items() if k not in (schema.FALLBACK, schema.LANGUAGE_AHEAD)
    }
    labelled = dict(article, **fields)
    self._cut.inc(
      sum(1 for r in labelled['removed'] if r['reason'] == schema.FOREIGN_LANGUAGE)
      - sum(1 for r in article.get('removed') or [] if r['reason'] == schema.FOREIGN_LANGUAGE)
    )
    chosen = with_declared_language(
      labelled, declared, self._config['declared_language_below_score']
    )
    self._declared.inc(chosen is not labelled)
    return [chosen]
