"""The written topic sets the packaged model is trained and tested on
(`benchmarks/topic_examples.jsonl`, `benchmarks/topic_test_written.jsonl`):
every item is a headline and lead in a named language with one of the 17
top-level topics, and no test item is a training item."""

import collections
import json
import re

import pytest

from benchmarks.topic_corpus import WRITTEN_EXAMPLES, WRITTEN_TEST


def _items(path):
  with open(path, encoding='utf-8') as f:
    return [json.loads(line) for line in f]


def _normalised(text):
  return re.sub(r'\s+', ' ', text).strip().lower()


@pytest.mark.parametrize('path', [WRITTEN_EXAMPLES, WRITTEN_TEST])
def test_every_written_item_has_a_language_a_headline_a_lead_and_a_top_level_topic(config, path):
  items = _items(path)
  assert items
  for item in items:
    assert set(item) == {'label', 'lang', 'title', 'text'}, item
    assert item['label'] in config['taxonomy'], item
    assert re.fullmatch(r'[a-z]{2,3}', item['lang']), item
    assert item['title'].strip() and item['text'].strip(), item
  texts = [_normalised(item['text']) for item in items]
  assert len(set(texts)) == len(texts)


def test_the_test_set_has_every_topic_in_several_languages_and_is_never_trained_on(config):
  test, training = _items(WRITTEN_TEST), _items(WRITTEN_EXAMPLES)
  languages = collections.defaultdict(set)
  for item in test:
    languages[item['label']].add(item['lang'])
  assert set(languages) == set(config['taxonomy'])
  assert all(len(langs) >= 8 for langs in languages.values())
  trained = {_normalised(item['text']) for item in training}
  trained |= {_normalised(item['title']) for item in training}
  assert not [item for item in test if _normalised(item['text']) in trained]
  assert not [item for item in test if _normalised(item['title']) in trained]
