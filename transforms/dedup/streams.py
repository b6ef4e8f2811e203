"""Deduplication in streams: the batch rules with Beam state and timers.

For an unbounded PCollection of articles (timestamped with their event
time), in the global window:

1. exact body: keyed by body fingerprint, a stateful DoFn remembers the
   first record seen; later ones are duplicates of it;
2. canonical URL and part: the same, keyed by the URL key;
3. near-duplicates: each record goes to its LSH band buckets; a stateful
   DoFn per band key holds the sketches seen in that bucket and says
   whether the record matches one (the same test as in batch: Jaccard or
   containment); a stateful DoFn per record id gathers the verdicts of all
   its bands and publishes the record or marks it a duplicate.

Every remembered item carries an event-time timer: after the horizon
(`dedup.stream_horizon_days`, 7 by default) it is forgotten, so a story
that reappears later is published again.

Unlike batch, a stream cannot wait for all input: **the first record seen is
kept**, not the earliest published, and which of two records arriving in
one bundle is seen first is not guaranteed. `cluster_size` of a published
record is 1 (its duplicates arrive after it is out). A bucket remembers a
record that matched nothing *in that bucket*; if the record proved a
duplicate through another band, a later copy matching only it names it in
`duplicate_of` (batch follows such chains to the kept record; a stream
would need a cycle). The exact stages remember the first record of a key in
the same way, before the near-duplicate verdict. A record seen again within
the horizon (a feed re-listing an item) is a duplicate of the record first
published, under an id of its own (``schema.copy_id``: the n-th copy seen),
as in batch for identical inputs.
"""

from typing import Any, Dict

import apache_beam as beam
from apache_beam.coders import PickleCoder, VarIntCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms import window
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import (
  BagStateSpec,
  ReadModifyWriteStateSpec,
  TimerSpec,
  on_timer,
)
from apache_beam.utils.timestamp import Duration

from transforms import schema
from transforms.dedup.batch import DUPLICATES, STAGE, Deduplicated, SketchingDoFn
from transforms.dedup.minhash import NearDuplicateTest, band_keys
from transforms.dedup.rules import (
  CANONICAL_URL,
  EXACT_BODY,
  Sketch,
  article_fingerprint,
  as_duplicate,
  body_keys,
  url_key,
)

_DAY_SECONDS = 24 * 60 * 60


def horizon_of(config: Dict[str, Any]) -> Duration:
  return Duration(seconds=config['stream_horizon_days'] * _DAY_SECONDS)


class _FirstSeenFn(beam.DoFn):
  """(key, article) -> the first article of each key; later ones are
  duplicates of it until the horizon has passed."""

  FIRST = ReadModifyWriteStateSpec('first', PickleCoder())
  COPIES = ReadModifyWriteStateSpec('copies', VarIntCoder())
  EXPIRY = TimerSpec('expiry', TimeDomain.WATERMARK)

  def __init__(self, rule: str, horizon: Duration):
    self._rule = rule
    self._horizon = horizon
    self._dupes = Metrics.counter(STAGE, 'stream_%s' % rule)

  def process(
    self,
    keyed,
    timestamp=beam.DoFn.TimestampParam,
    first=beam.DoFn.StateParam(FIRST),
    copies=beam.DoFn.StateParam(COPIES),
    expiry=beam.DoFn.TimerParam(EXPIRY),
  ):
    _, article = keyed
    first_id = first.read()
    if first_id:
      self._dupes.inc()
      if article['id'] == first_id:  # the same item again: an id of its own
        copy = (copies.read() or 0) + 1
        copies.write(copy)
        article = dict(article, id=schema.copy_id(first_id, copy, DUPLICATES))
      yield beam.pvalue.TaggedOutput(DUPLICATES, as_duplicate(article, first_id, 1.0, self._rule))
      return
    first.write(article['id'])
    expiry.set(timestamp + self._horizon)
    yield article

  @on_timer(EXPIRY)
  def forget(self, first=beam.DoFn.StateParam(FIRST), copies=beam.DoFn.StateParam(COPIES)):
    first.clear()
    copies.clear()


class StreamExactDuplicates(beam.PTransform):
  def __init__(self, rule: str, key_fn, horizon: Duration):
    super().__init__()
    self._rule = rule
    self._key_fn = key_fn
    self._horizon = horizon

  def expand(self, articles):
    return (
      articles
      | 'Key' >> beam.Map(lambda a, f=self._key_fn: (f(a), a))
      | 'FirstSeen'
      >> beam.ParDo(_FirstSeenFn(self._rule, self._horizon)).with_outputs(
        DUPLICATES, main='articles'
      )
    )


class _SignFn(SketchingDoFn):
  """article -> (band key, (sketch, seen at)) for each band."""

  def process(self, article, timestamp=beam.DoFn.TimestampParam):
    keys = body_keys(article, self._hasher)
    sketch = Sketch((), article['id'], keys.signature, keys.shingle_count)
    for key in band_keys(sketch.values(), self._config['bands']):
      yield key, (sketch, timestamp)


class _BandBucketFn(beam.DoFn):
  """(band key, (sketch, seen at)) -> (id, verdict): the earliest-seen
  remembered record it matches, (seen at, id, similarity, rule), or None."""

  SEEN = ReadModifyWriteStateSpec('seen', PickleCoder())
  EXPIRY = TimerSpec('expiry', TimeDomain.WATERMARK)

  def __init__(self, config: Dict[str, Any], horizon: Duration):
    self._config = config
    self._horizon = horizon

  def setup(self):
    self._is_duplicate = NearDuplicateTest(self._config['threshold'], self._config['containment'])

  def process(self, keyed, seen=beam.DoFn.StateParam(SEEN), expiry=beam.DoFn.TimerParam(EXPIRY)):
    _, (sketch, seen_at) = keyed
    remembered = seen.read() or []
    for kept_at, kept in remembered:
      if kept.id == sketch.id:
        continue
      verdict = self._is_duplicate(sketch, kept)
      if verdict:
        yield sketch.id, (kept_at, kept.id, verdict[1], verdict[0])
        return
    yield sketch.id, None
    if len(remembered) < self._config['max_bucket']:
      if not remembered:
        expiry.set(seen_at + self._horizon)
      seen.write(remembered + [(seen_at, sketch)])

  @on_timer(EXPIRY)
  def forget(
    self,
    fired=beam.DoFn.TimestampParam,
    seen=beam.DoFn.StateParam(SEEN),
    expiry=beam.DoFn.TimerParam(EXPIRY),
  ):
    left = [(at, s) for at, s in (seen.read() or []) if at + self._horizon > fired]
    if left:
      seen.write(left)
      expiry.set(min(at for at, _ in left) + self._horizon)
    else:
      seen.clear()


class _DecideFn(beam.DoFn):
  """(id, record or band verdict) -> the record, published or marked a
  near-duplicate once every band has answered."""

  RECORD = ReadModifyWriteStateSpec('record', PickleCoder())
  VERDICTS = BagStateSpec('verdicts', PickleCoder())
  ANSWERS = ReadModifyWriteStateSpec('answers', VarIntCoder())

  def __init__(self, bands: int):
    self._bands = bands
    self._dupes = Metrics.counter(STAGE, 'stream_near')

  def process(
    self,
    keyed,
    record=beam.DoFn.StateParam(RECORD),
    verdicts=beam.DoFn.StateParam(VERDICTS),
    answers=beam.DoFn.StateParam(ANSWERS),
  ):
    _, (kind, value) = keyed
    if kind == 'record':
      record.write(value)
    else:
      answers.write((answers.read() or 0) + 1)
      if value:
        verdicts.add(value)
    article = record.read()
    if article is None or (answers.read() or 0) < self._bands:
      return
    matches = sorted(verdicts.read())
    for state in (record, verdicts, answers):
      state.clear()
    if matches:
      _, kept_id, sim, rule = matches[0]
      self._dupes.inc()
      yield beam.pvalue.TaggedOutput(DUPLICATES, as_duplicate(article, kept_id, sim, rule))
    else:
      yield dict(article, cluster_size=1)


class StreamNearDuplicates(beam.PTransform):
  def __init__(self, config: Dict[str, Any], horizon: Duration):
    super().__init__()
    self._config = config
    self._horizon = horizon

  def expand(self, articles):
    verdicts = (
      articles
      | 'Sign' >> beam.ParDo(_SignFn(self._config))
      | 'Bucket' >> beam.ParDo(_BandBucketFn(self._config, self._horizon))
      | 'AsVerdict' >> beam.MapTuple(lambda rid, v: (rid, ('verdict', v)))
    )
    records = articles | 'ById' >> beam.Map(lambda a: (a['id'], ('record', a)))
    return (
      (records, verdicts)
      | 'Together' >> beam.Flatten()
      | 'Decide'
      >> beam.ParDo(_DecideFn(self._config['bands'])).with_outputs(DUPLICATES, main='articles')
    )


class StreamDeduplicate(beam.PTransform):
  """Unbounded articles -> (published articles, duplicates)."""

  def __init__(self, dedup_config: Dict[str, Any]):
    super().__init__()
    self._config = dedup_config

  def expand(self, articles):
    horizon = horizon_of(self._config)
    # One memory for the whole stream, whatever windows the input is in.
    articles = articles | 'OneMemory' >> beam.WindowInto(window.GlobalWindows())
    by_body = articles | 'ExactBody' >> StreamExactDuplicates(
      EXACT_BODY, article_fingerprint, horizon
    )
    by_url = by_body.articles | 'ExactUrl' >> StreamExactDuplicates(CANONICAL_URL, url_key, horizon)
    near = by_url.articles | 'Near' >> StreamNearDuplicates(self._config, horizon)
    duplicates = (
      by_body[DUPLICATES],
      by_url[DUPLICATES],
      near[DUPLICATES],
    ) | 'AllDuplicates' >> beam.Flatten()
    return Deduplicated(near.articles, duplicates, None)
