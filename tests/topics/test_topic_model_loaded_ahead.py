"""The topic model a run starts loading ahead (while the stages before
dedup run) is the one classification takes, once: in a thread of the
worker for plain-text records, in the pool's language child (which scores
the articles ahead) for pages; a later load reads the file again. Where
articles come with their topics worked out, the worker loads the model only
when it has an article to score."""

from configs.loading import load_config
from transforms.topics import articles, classify
from transforms.topics.classify import TopicModelHandler, _PreloadFn
from transforms.worker_pool import worker_pool


def handler(**given):
  config = load_config()['classify']
  return TopicModelHandler(
    config['model'], config['min_batch_size'], config['max_batch_size'], config['packaged'], **given
  )


def extract_config(**given):
  return dict(load_config()['extract'], processes=2, **given)


def test_classification_takes_the_model_loaded_ahead_once():
  ahead = _PreloadFn(handler(), extract_config())
  ahead.setup()
  assert list(ahead.process({'text': 'A plain-text record.'})) == []
  loading = classify._PRELOADED[handler().model_path()]
  another = _PreloadFn(handler(), extract_config())
  another.setup()  # a second instance in the process starts no second load
  assert list(another.process({'text': 'Another.'})) == []
  assert classify._PRELOADED[handler().model_path()] is loading
  first = handler().load_model()
  assert first is loading.result()
  second = handler().load_model()
  assert second is not first
  assert first.scores(['The central bank raised interest rates.']) == second.scores(
    ['The central bank raised interest rates.']
  )
  ahead.teardown()
  another.teardown()


def loaded_models():
  """Run in a child of the pool: the model files it has loaded."""
  return sorted(articles._LOADED)


def test_for_pages_the_pools_language_child_loads_it():
  config = extract_config()
  ahead = _PreloadFn(handler(), config)
  ahead.setup()
  pool = worker_pool(config)
  try:
    assert list(ahead.process({'url': 'https://a.example/', 'html': '<p>A page.</p>'})) == []
    ahead._loading.join()
    # The child pinned to the language stages (slot 0).
    assert pool.pinned(0)(loaded_models) == [handler().model_path()]
  finally:
    ahead.teardown()
    pool.release()
  assert handler().model_path() not in classify._PRELOADED  # nothing loaded in the worker


def test_loaded_when_used_the_model_is_read_at_its_first_batch(tmp_path):
  model = handler(when_used=True).load_model()
  assert model.scores(['The striker scored twice in the cup final.'])
  broken = tmp_path / 'broken.joblib'
  broken.write_bytes(b'not a model')
  unusable = TopicModelHandler(str(broken), 1, 1, when_used=True).load_model()  # no error yet
  try:
    unusable.scores(['A text.'])
  except classify.TopicModelUnusable as e:
    assert 'cannot be loaded' in str(e) and str(broken) in str(e)
  else:
    raise AssertionError('a broken model file scored')


def test_without_a_load_ahead_the_model_is_loaded_when_asked():
  model = handler().load_model()
  assert model.scores(['The striker scored twice in the cup final.'])
