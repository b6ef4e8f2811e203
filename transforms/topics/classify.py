"""Topic classification into IPTC Media Topics (top level), the Beam way.

The trained model (`transforms/topics/model.py`, trained with
`pipelines.train_classifier`) is served through Beam's RunInference:
`TopicModelHandler` loads the model file once per worker process, from a
local or gs:// path, and scores batches of article texts. With no model file
it serves a packaged model (`classify.packaged`): the n-gram model by
default, or the e5 encoder with its topic head (`transforms/topics/e5.py`). Each article rides
beside its text as the key of a KeyedModelHandler and comes out with
`topics`: `{code, label, score}`, best first, the score being the model's
probability. Topics under `classify.min_score` are left out: no topic rather
than a wrong one.

Where extraction started the worker's pool of children, the articles are
scored before dedup, in a child of the pool (``ScoreTopicsAhead``), while
the worker goes on to dedup; classification then attaches
what was worked out to the articles dedup keeps, and scores through
RunInference only those that came without it (the worker loads the model
only then). The same model, the same text, the same topics either way.
"""

import threading
from concurrent import futures
from typing import (
  TYPE_CHECKING,
  Any,
  Callable,
  Dict,
  Iterable,
  List,
  NamedTuple,
  Optional,
  Sequence,
)

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.ml.inference.base import (
  KeyedModelHandler,
  ModelHandler,
  PredictionResult,
  RunInference,
)

from transforms import schema
from transforms.text.budget import TimeBudget
from transforms.text.digest import text_digest
from transforms.topics.articles import (
  article_text,
  load_to_score,
  load_topic_model,
  top_topics,
  topic_model_path,
  topic_scores,
)
from transforms.worker_pool import RECORDS_AHEAD, PooledRecordStageFn, worker_pool

if TYPE_CHECKING:
  from transforms.topics.ngrams import TopicModel

STAGE = 'classify'
# The articles that came with their topics worked out ahead, classified
# without the model.
SCORED_AHEAD = 'scored_ahead'
# The pool's slot that scores articles ahead of dedup: not the language
# stages' (slot 0), which relabel the articles the site boilerplate changed
# at the same time, where the pool has another child.
SCORING_SLOT = 1


class TopicModelUnusable(Exception):
  """The topic model could not be loaded: the run's configuration (a model
  file that is not one, a packaged model without its encoder), not an
  article, so the run stops with it."""


class TopicModelHandler(ModelHandler[str, PredictionResult, 'TopicModel']):
  """Article texts -> the topic model's scores, for RunInference.

  Args:
    model_path: a model file written by pipelines.train_classifier, local or
      gs://; None for the packaged model.
    min_batch_size, max_batch_size: bounds of RunInference's batches.
    packaged: which packaged model serves when model_path is None:
      'ngrams' or 'e5'.
    when_used: load the model at the first batch, not when the worker sets
      up (RunInference loads it then): where articles come with their
      topics worked out ahead, the worker may never need it. A model that
      cannot be loaded then raises ``TopicModelUnusable``.
  """

  def __init__(
    self,
    model_path: Optional[str],
    min_batch_size: int,
    max_batch_size: int,
    packaged: str = 'ngrams',
    when_used: bool = False,
  ):
    self._model_path = model_path
    self._packaged = packaged
    self._batching = {'min_batch_size': min_batch_size, 'max_batch_size': max_batch_size}
    self._when_used = when_used

  def model_path(self) -> str:
    # The packaged model is found on the worker, where the package is
    # installed, not where the pipeline was built.
    return topic_model_path({'model': self._model_path, 'packaged': self._packaged})

  def load_model(self) -> 'TopicModel':
    if self._when_used:
      return _ModelWhenUsed(self.model_path())
    return preloaded_model(self.model_path())

  def run_inference(
    self, batch: Sequence[str], model: 'TopicModel', inference_args: Optional[Dict[str, Any]] = None
  ) -> Iterable[PredictionResult]:
    """One model call per batch; each result's inference maps topic codes
    to probabilities."""
    return [PredictionResult(text, scores) for text, scores in zip(batch, model.scores(batch))]

  def batch_elements_kwargs(self) -> Dict[str, int]:
    return self._batching

  def get_metrics_namespace(self) -> str:
    return STAGE


class ClassifiedArticles(NamedTuple):
  articles: beam.PCollection
  dead_letter: beam.PCollection


class ClassifyTopics(beam.PTransform):
  """Articles -> articles with `topics`, best first; an article that cannot
  be classified goes to `dead_letter`."""

  def __init__(self, classify_config: Dict[str, Any], taxonomy: Dict[str, str]):
    super().__init__()
    self._config = classify_config
    self._taxonomy = taxonomy

  def expand(self, articles):
    config = self._config
    handler = KeyedModelHandler(
      TopicModelHandler(
        config['model'],
        config['min_batch_size'],
        config['max_batch_size'],
        config['packaged'],
        when_used=True,
      )
    )
    texts = articles | 'ArticleText' >> beam.ParDo(
      _ArticleTextFn(config['max_chars'])
    ).with_outputs(SCORED_AHEAD, main='to_score')
    scored, failed = (
      texts.to_score | 'RunInference' >> RunInference(handler).with_exception_handling()
    )
    attached = scored | 'AttachTopics' >> beam.ParDo(
      _AttachTopicsFn(config['min_score'], config['max_topics'], self._taxonomy)
    )
    failures = failed.failed_inferences | 'FailedBatches' >> beam.FlatMap(
      _failed_batch_dead_letters
    )
    classified = (texts[SCORED_AHEAD], attached) | 'Classified' >> beam.Flatten()
    return ClassifiedArticles(classified, failures)


class _ArticleTextFn(beam.DoFn):
  """article -> (article, what the model reads of it), to score; or, for
  an article with its topics worked out ahead from what the model reads of
  it now (``ScoreTopicsAhead``), the article with those topics (tagged
  SCORED_AHEAD). Either way without what it carried."""

  def __init__(self, max_chars):
    self._max_chars = max_chars
    self._taken = Metrics.counter(STAGE, 'scored_ahead')
    self._untopical = Metrics.counter(STAGE, 'no_topic')

  def process(self, article):
    text = article_text(article.get('title'), article.get('body'), self._max_chars)
    topics = topics_ahead(article, text)
    article = schema.without_worked_ahead(article)
    if topics is None:
      yield article, text
      return
    self._taken.inc()
    if not topics:
      self._untopical.inc()
    yield beam.pvalue.TaggedOutput(SCORED_AHEAD, dict(article, topics=topics))


class _AttachTopicsFn(beam.DoFn):
  def __init__(self, min_score, max_topics, taxonomy):
    self._min_score = min_score
    self._max_topics = max_topics
    self._taxonomy = taxonomy
    self._untopical = Metrics.counter(STAGE, 'no_topic')

  def process(self, keyed_result):
    article, result = keyed_result
    topics = top_topics(result.inference, self._taxonomy, self._min_score, self._max_topics)
    if not topics:
      self._untopical.inc()
    yield dict(article, topics=topics)


def _failed_batch_dead_letters(failure):
  """A batch the model failed on: one dead letter per article in it. A
  model that could not be loaded stops the run instead: no article is at
  fault, and every one would fail the same way."""
  batch, (kind, error, _) = failure
  if isinstance(kind, type) and issubclass(kind, TopicModelUnusable):
    raise TopicModelUnusable(error)
  Metrics.counter(STAGE, 'failed').inc(len(batch))
  for article, _ in batch:
    yield schema.dead_letter(
      STAGE,
      error,
      schema.ordered(article),
      url=article.get('url'),
      feed_url=article.get('feed_url'),
    )


# Models that PreloadTopicModel loaded ahead, by path, each taken once.
_PRELOADED: Dict[str, 'futures.Future'] = {}
_PRELOADING = threading.Lock()


def preloaded_model(path: str):
  """The model at `path`: the one loaded ahead for it, if any (taken, so a
  later run loads the file again), else loaded now."""
  with _PRELOADING:
    ahead = _PRELOADED.pop(path, None)
  return ahead.result() if ahead is not None else load_topic_model(path)


class _ModelWhenUsed:
  """The model at `path`, loaded (or taken from the load ahead) when it
  first scores; a load that fails raises ``TopicModelUnusable``."""

  def __init__(self, path: str):
    self._path = path
    self._model = None
    self._lock = threading.Lock()

  def scores(self, texts: Sequence[str]) -> List[Dict[str, float]]:
    with self._lock:
      if self._model is None:
        try:
          self._model = preloaded_model(self._path)
        except Exception as e:
          raise TopicModelUnusable(
            'the topic model at %s cannot be loaded: %s: %s' % (self._path, type(e).__name__, e)
          ) from e
    return self._model.scores(texts)


def scores_in_pool(page: Dict[str, Any], extract_config: Dict[str, Any]) -> bool:
  """Whether articles of a run whose first page is `page` are scored in
  the worker's pool: extraction starts the pool on a page's HTML (with a
  budget); plain-text records never start it."""
  return bool(extract_config['timeout_seconds'] and page.get('html'))


class _PreloadFn(beam.DoFn):
  """Starts loading the topic model when the first page comes, and emits
  nothing: in the child of the worker's pool that will score the articles
  (``ScoreTopicsAhead``) where extraction starts the pool, else in a thread
  of the worker, for RunInference."""

  def __init__(self, handler: TopicModelHandler, extract_config: Dict[str, Any]):
    self._handler = handler
    self._pool_config = {k: extract_config[k] for k in ('timeout_seconds', 'processes')}

  def setup(self):
    self._started = False
    self._pool = None
    self._loading = None  # the thread asking the pool's child to load

  def process(self, page):
    if not self._started:
      self._started = True
      if scores_in_pool(page, self._pool_config):
        self._load_in_pool()
      else:
        self._load_in_worker()
    return []

  def _load_in_worker(self):
    path = self._handler.model_path()
    with _PRELOADING:
      if path not in _PRELOADED:
        loader = futures.ThreadPoolExecutor(1, thread_name_prefix='newsbeam-preload')
        _PRELOADED[path] = loader.submit(load_topic_model, path)
        loader.shutdown(wait=False)  # its thread ends with the load

  def _load_in_pool(self):
    """Asks the pool's scoring child (SCORING_SLOT, see
    ``PooledRecordStageFn``) to load the model, from a thread (a child busy
    extracting takes it after its page), within a child's start-up time,
    not a record's budget (a load cut short would kill a child the stages
    pinned to it use); a load that fails there fails again, and says why,
    when the child is asked to score."""
    self._pool = worker_pool(self._pool_config)
    run = self._pool.pinned(SCORING_SLOT, seconds=TimeBudget.SETUP_SECONDS)
    path = self._handler.model_path()

    def load():
      try:
        run(load_to_score, path)
      except Exception:  # scoring the first article reports it
        pass

    self._loading = threading.Thread(target=load, name='newsbeam-preload', daemon=True)
    self._loading.start()

  def teardown(self):
    if self._pool is not None:
      self._pool.release()


class PreloadTopicModel(beam.PTransform):
  """Loads the topic model ahead, while the stages before classification
  run: applied to the pages as read, it starts on the first page, and a
  child of the pool (or, for plain-text records, a thread of the worker)
  loads the model (about 0.7 s of CPU) while the pages are
  extracted and labelled, instead of after the barriers (site boilerplate,
  dedup), where the worker alone is the run's critical path. Emits
  nothing; classification then takes the model."""

  def __init__(self, classify_config: Dict[str, Any], extract_config: Dict[str, Any]):
    super().__init__()
    self._config = classify_config
    self._extract_config = extract_config

  def expand(self, articles):
    config = self._config
    handler = TopicModelHandler(
      config['model'], config['min_batch_size'], config['max_batch_size'], config['packaged']
    )
    return articles | 'Preload' >> beam.ParDo(_PreloadFn(handler, self._extract_config))


def topics_ahead(article: Dict[str, Any], text: str) -> Optional[List[Dict[str, Any]]]:
  """The topics ``ScoreTopicsAhead`` worked out for the article, if it did
  and from `text`, what the model reads of the article now; else None."""
  ahead = article.get(schema.TOPICS_AHEAD)
  if ahead is None or ahead['from'] != text_digest(text):
    return None
  return ahead['topics']


class ScoreTopicsAhead(beam.PTransform):
  """Articles -> the same articles, each with its topics worked out ahead
  (``schema.TOPICS_AHEAD``), before dedup.

  After the site boilerplate's barrier the worker alone labels, filters and
  sketches the articles for dedup, then classifies those dedup keeps, while
  the pool's children idle. Scored here, in a child of the pool
  (SCORING_SLOT, where ``PreloadTopicModel`` loaded the model while pages
  were extracted; not the language stages' child, which relabels articles
  meanwhile, where the pool has two), classification takes the topics of
  the articles dedup keeps and drops the others'. Only where extraction
  started the pool; an article this could not score goes on without them,
  and classification scores it.
  """

  def __init__(
    self, classify_config: Dict[str, Any], taxonomy: Dict[str, str], extract_config: Dict[str, Any]
  ):
    super().__init__()
    self._config = classify_config
    self._taxonomy = taxonomy
    self._extract_config = extract_config

  def expand(self, articles):
    return articles | 'ScoreAhead' >> beam.ParDo(
      _ScoreAheadFn(self._config, self._taxonomy, self._extract_config)
    )


class _ScoreAheadFn(PooledRecordStageFn):
  STAGE = STAGE
  SLOT = SCORING_SLOT

  def __init__(self, config, taxonomy, extract_config):
    # One child, the one PreloadTopicModel had load the model: one model
    # loaded in every child would cost each its CPU and memory.
    super().__init__(extract_config, starts_pool=False, children=1)
    self._config = config
    self._taxonomy = taxonomy

  def setup(self):
    super().setup()
    self._path = topic_model_path(self._config)

  def outputs(self, article):
    yield article  # no pool: classification scores it

  # Articles scored in one call: the model's own cost per call (building
  # and checking its matrices) is a few milliseconds, as much as an article.
  GROUP = RECORDS_AHEAD

  def work_group(self, articles, run: Callable[..., Any]):
    max_chars = self._config['max_chars']
    texts = [article_text(a.get('title'), a.get('body'), max_chars) for a in articles]
    return list(zip(texts, run(topic_scores, self._path, texts)))

  def emitted(self, article, result):
    text, scores = result
    topics = top_topics(
      scores, self._taxonomy, self._config['min_score'], self._config['max_topics']
    )
    return [dict(article, **{schema.TOPICS_AHEAD: {'from': text_digest(text), 'topics': topics}})]

  def failed(self, article, error) -> List[Any]:
    return [article]  # classification scores it, or says why it cannot
