"""configs.schema: the typed models behind load_config, their messages and
the documentation's reference."""

import pytest
import yaml

from configs import schema
from configs.loading import ConfigError, default_config_path, load_config, validate


def _load(tmp_path, text):
  path = tmp_path / 'user.yaml'
  path.write_text(text)
  return load_config(str(path))


def _exactly(a, b, where='config'):
  """a == b, and of the same types all the way down (10 is not 10.0)."""
  assert type(a) is type(b), where
  if isinstance(a, dict):
    assert list(a) == list(b), where
    for key in a:
      _exactly(a[key], b[key], '%s.%s' % (where, key))
  elif isinstance(a, list):
    assert len(a) == len(b), where
    for i, (x, y) in enumerate(zip(a, b)):
      _exactly(x, y, '%s[%d]' % (where, i))
  else:
    assert a == b, where


def test_default_yaml_equals_the_models_defaults():
  with open(default_config_path(), encoding='utf-8') as f:
    yaml_defaults = yaml.safe_load(f)
  _exactly(yaml_defaults, schema.Settings().model_dump())


def test_load_config_returns_plain_dicts_with_the_defaults():
  config = load_config()
  assert isinstance(config['classify']['training'], dict)
  assert config['filter']['min_words'] == 50
  assert config['_base_dir']


def test_whole_numbers_stay_whole(tmp_path):
  config = _load(tmp_path, 'stream: {early_firing_seconds: 5}\ndedup: {threshold: 1}\n')
  assert type(config['stream']['early_firing_seconds']) is int
  assert type(config['dedup']['threshold']) is int
  assert type(config['fetch']['backoff']) is float


def test_the_files_read_as_yamls_own_parser_reads_them(tmp_path):
  # libyaml's parser where it is there: the same values, of the same types.
  from configs.loading import _read_yaml

  with open(default_config_path(), encoding='utf-8') as f:
    text = f.read()
  text += 'extra:\n  when: 2024-01-02\n  ratio: 1e3\n  flag: yes\n  none: ~\n  text: "a: b"\n'
  _exactly(_read_yaml(text, 'default.yaml'), yaml.safe_load(text))


def test_a_file_that_is_not_yaml_says_where(tmp_path):
  with pytest.raises(ConfigError) as error:
    _load(tmp_path, 'extract:\n  mode: [fast\nfilter:\n  min_words: 3\n')
  message = str(error.value)
  assert 'user.yaml is not valid YAML' in message
  assert 'line 2, column 9' in message and 'mode: [fast' in message


def test_a_user_file_changes_only_what_it_names(tmp_path):
  config = _load(tmp_path, 'dedup:\n  threshold: 0.5\n')
  assert config['dedup']['threshold'] == 0.5
  assert config['dedup']['bands'] == 32
  assert config['filter']['min_words'] == 50


@pytest.mark.parametrize(
  'text, message',
  [
    ('filter: {min_word: 200}', 'filter.min_word: unknown key (did you mean min_words?)'),
    ('dedup: {treshold: 0.5}', 'dedup.treshold: unknown key (did you mean threshold?)'),
    ('filtr: {min_words: 3}', 'filtr: unknown section (did you mean filter?)'),
    (
      'classify: {training: {word_featurs: 3}}',
      'classify.training.word_featurs: unknown key (did you mean word_features?)',
    ),
    ('dedup: {threshold: abc}', "dedup.threshold must be a number (got 'abc')"),
    ('dedup: {threshold: 1.5}', 'dedup.threshold must be at most 1.0 (got 1.5)'),
    ('filter: {min_words: "10"}', "filter.min_words must be a whole number (got '10')"),
    ('dedup: {bands: 30}', 'dedup.num_perm must be a multiple of dedup.bands'),
    ('classify: {max_batch_size: 2}', 'classify.max_batch_size must be at least'),
    ('classify: {label_names: {x: "medtop:99"}}', 'classify.label_names.x: '),
    ('output: {format: csv}', "output.format must be jsonl or parquet (got 'csv')"),
    ('extract: {favor: max}', 'extract.favor must be precision, balanced or recall'),
    ('taxonomy: {foo: bar}', 'taxonomy.foo: taxonomy entries must map medtop:'),
    ('stream: 3', 'stream must be a mapping (got 3)'),
    ('fetch: {state_path: ""}', 'fetch.state_path must be a non-empty string'),
  ],
)
def test_bad_settings_name_the_key(tmp_path, text, message):
  with pytest.raises(ConfigError) as error:
    _load(tmp_path, text + '\n')
  assert message in str(error.value)
  assert str(error.value).startswith(str(tmp_path / 'user.yaml') + ': ')


def test_an_unknown_key_without_a_close_match_lists_the_known_ones(tmp_path):
  with pytest.raises(ConfigError, match=r'filter\.zzz: unknown key \(known: min_words\)'):
    _load(tmp_path, 'filter: {zzz: 1}\n')


def test_every_wrong_key_is_reported(tmp_path):
  with pytest.raises(ConfigError) as error:
    _load(tmp_path, 'fetch: {retries: 1.5, read_timeout: 0}\n')
  text = str(error.value)
  assert '2 errors' in text
  assert 'fetch.retries must be a whole number' in text
  assert 'fetch.read_timeout must be at least 0.01' in text


def test_loader_keys_are_not_user_keys(tmp_path):
  with pytest.raises(ConfigError, match='_base_dir: unknown section'):
    _load(tmp_path, '_base_dir: /\n')


def test_validate_keeps_the_loaders_keys_and_fills_defaults():
  config = validate({'_base_dir': '/x', 'filter': {'min_words': 3}})
  assert config['_base_dir'] == '/x'
  assert config['filter'] == {'min_words': 3}
  assert config['dedup']['threshold'] == 0.8


def test_reference_markdown_covers_every_setting():
  text = schema.reference_markdown()
  assert text.startswith('# Configuration reference\n')
  for section, field in schema.Settings.model_fields.items():
    assert '## `%s`' % section in text
    model = field.annotation
    if isinstance(model, type) and issubclass(model, schema.BaseModel):
      for key, sub in model.model_fields.items():
        assert '| `%s` |' % key in text
        assert sub.description, '%s.%s has no description' % (section, key)
  assert '### `classify.training`' in text
  assert "| `favor` | one of `precision`, `balanced`, `recall` | `\"balanced\"` |" in text
  assert '| `threshold` | number, ≥ 0, ≤ 1 | `0.8` |' in text
  # A regular expression's | does not split a table cell.
  for line in text.splitlines():
    if line.startswith('| `'):
      assert line.replace('\\|', '').count('|') in (3, 5), line
