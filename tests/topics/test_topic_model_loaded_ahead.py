"""The topic model a run starts loading ahead (while the stages before
dedup run) is the one classification takes, once; a later load reads the
file again."""

from configs.loading import load_config
from transforms.topics import classify
from transforms.topics.classify import TopicModelHandler, _PreloadFn


def handler():
  config = load_config()['classify']
  return TopicModelHandler(
    config['model'], config['min_batch_size'], config['max_batch_size'], config['packaged']
  )


def test_classification_takes_the_model_loaded_ahead_once():
  ahead = _PreloadFn(handler())
  ahead.setup()
  loading = classify._PRELOADED[handler().model_path()]
  ahead.setup()  # a second instance in the process starts no second load
  assert classify._PRELOADED[handler().model_path()] is loading
  assert list(ahead.process({'body': 'text'})) == []
  first = handler().load_model()
  assert first is loading.result()
  second = handler().load_model()
  assert second is not first
  assert first.scores(['The central bank raised interest rates.']) == second.scores(
    ['The central bank raised interest rates.']
  )


def test_without_a_load_ahead_the_model_is_loaded_when_asked():
  model = handler().load_model()
  assert model.scores(['The striker scored twice in the cup final.'])
