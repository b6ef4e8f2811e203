"""Topic classification into IPTC Media Topics (top level).

``CueWordClassifier`` is the first classifier: each topic has weighted cue
words in the configuration, a topic's score is its share of the cue hits in
the title (counted twice) and body, and topics under `min_score` (or with
fewer than `min_hits` hits) are left out: no topic rather than a wrong one.
"""

import re
from collections import Counter
from typing import Any, Dict, List

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms import schema

DEAD_LETTER = 'dead_letter'
STAGE = 'classify'


class CueWordClassifier:
  """Scores the taxonomy's topics by their cue words.

  Args:
    config: the `classify` section; taxonomy: code -> label.
  """

  def __init__(self, config: Dict[str, Any], taxonomy: Dict[str, str]):
    self._taxonomy = taxonomy
    self._min_score = config['min_score']
    self._min_hits = config['min_hits']
    self._max_topics = config['max_topics']
    self._patterns = {
        code: re.compile(r'\b(?:%s)' % '|'.join(
            re.escape(w.lower()) for w in sorted(words, key=len, reverse=True)))
        for code, words in config['cue_words'].items() if words}

  def topics(self, title: str, body: str) -> List[Dict[str, Any]]:
    text = ('%s\n%s\n%s' % (title or '', title or '', body or '')).lower()
    hits = Counter({code: len(p.findall(text))
                    for code, p in self._patterns.items()})
    total = sum(hits.values())
    if not total:
      return []
    out = []
    for code, count in hits.most_common():
      score = count / total
      if count < self._min_hits or score < self._min_score:
        continue
      out.append({'code': code, 'label': self._taxonomy[code],
                  'score': round(score, 4)})
    return out[:self._max_topics]


class ClassifyTopics(beam.PTransform):
  """Articles -> articles with `topics`, best first."""

  def __init__(self, classify_config: Dict[str, Any], taxonomy: Dict[str, str]):
    super().__init__()
    self._config = classify_config
    self._taxonomy = taxonomy

  def expand(self, articles):
    return articles | 'Classify' >> beam.ParDo(
        _ClassifyFn(self._config, self._taxonomy)).with_outputs(
            DEAD_LETTER, main='articles')


class _ClassifyFn(beam.DoFn):

  def __init__(self, config, taxonomy):
    self._config = config
    self._taxonomy = taxonomy
    self._failed = Metrics.counter(STAGE, 'failed')

  def setup(self):
    self._classifier = CueWordClassifier(self._config, self._taxonomy)

  def process(self, article):
    try:
      topics = self._classifier.topics(article.get('title'), article['body'])
    except Exception as e:
      self._failed.inc()
      yield beam.pvalue.TaggedOutput(DEAD_LETTER, schema.dead_letter(
          STAGE, '%s: %s' % (type(e).__name__, e), schema.ordered(article),
          url=article.get('url'), feed_url=article.get('feed_url')))
      return
    yield dict(article, topics=topics)
