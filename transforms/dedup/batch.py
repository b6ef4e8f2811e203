"""Deduplication: exact (body hash, canonical URL) and near-duplicate
(MinHash over word shingles of the running text, with LSH banding).

Which record of a group is kept is decided by ``keep_rank``: the earliest
published, then the longest body, then the smallest id, so the same input
keeps the same record on every run and runner. Duplicates carry
`duplicate_of` (the record finally kept: chains across the rules are
followed) and `similarity`; kept records carry `cluster_size`, the number of
inputs they stand for.

Near-duplicates never compare all pairs: each record emits one key per LSH
band, records sharing a band bucket are candidates, and each distinct
candidate pair is verified by ``NearDuplicateTest`` (estimated Jaccard, or
containment for a story cut short).

Records published by earlier runs (index entries, see dedup_index.py) can
join every stage; they rank before all others and are never duplicates.

Every rule decides on a ``Stub`` of each record (its keys, sketch, rank and
cluster size), never on the record itself: the records meet the decisions
once, at the end, so their texts cross one shuffle.
"""

import pickle
import zlib
from typing import Any, Dict, List, NamedTuple, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms import schema
from transforms.dedup.minhash import MinHasher, NearDuplicateTest
from transforms.dedup.rules import (
  CANONICAL_URL,
  EXACT_BODY,
  Stub,
  as_duplicate,
  entry_sketch,
  keep_rank,
  one_partition,
  published_earlier,
  resolve_roots,
  stub_of,
)

DUPLICATES = 'duplicates'
STAGE = 'dedup'
# Tags of Deduplicate's internal outputs and decisions.
LINKS = 'links'
KEPT_STUBS = 'kept_stubs'
KEPT, DUPLICATE, ABSORBED = 'kept', 'duplicate', 'absorbed'
# A record, packed, as it meets its decisions (keyed by its id as they are).
ARTICLE = 'article'


class SketchingDoFn(beam.DoFn):
  """A DoFn with the MinHasher of the `dedup` config, built once per
  worker."""

  def __init__(self, config: Dict[str, Any]):
    self._config = config

  def setup(self):
    self._hasher = MinHasher(self._config['num_perm'], self._config['shingle_words'])


class _StubFn(SketchingDoFn):
  """article -> its Stub, ordered by `rank`."""

  def __init__(self, config: Dict[str, Any], rank=keep_rank, partition=one_partition):
    super().__init__(config)
    self._rank = rank
    self._partition = partition

  def process(self, article):
    yield stub_of(article, self._hasher, self._rank, self._partition)


class _ExactGroupFn(beam.DoFn):
  """The stubs sharing a key -> the best one (main), standing for the whole
  group in its cluster_size, and a link (duplicate id, (kept id, 1.0, rule))
  per other one (`links`). A group holding a record published by an earlier
  run keeps none of its own. A group comes as (key, {stubs, published}),
  or, where no run published anything, as (key, stubs)."""

  def __init__(self, rule: str):
    self._rule = rule
    self._dupes = Metrics.counter(STAGE, 'exact_%s' % rule)

  def process(self, keyed):
    _, grouped = keyed
    if isinstance(grouped, dict):
      grouped, published = grouped['stubs'], grouped['published']
    else:
      published = ()
    stubs = sorted(grouped, key=lambda s: s.order)
    if not stubs:
      return
    published = sorted(published, key=lambda e: e['rank'])
    if published:
      kept, others, kept_id = None, stubs, published[0]['id']
    else:
      kept, others, kept_id = stubs[0], stubs[1:], stubs[0].id
    for other in others:
      self._dupes.inc()
      yield beam.pvalue.TaggedOutput(LINKS, (other.id, (kept_id, 1.0, self._rule)))
    if kept:
      yield kept._replace(
        cluster_size=sum(s.cluster_size for s in stubs if s.partition == kept.partition)
      )


class ExactDuplicates(beam.PTransform):
  """Stubs -> one stub per key (main) and `links` for the others.
  `published`: (key, index entry) pairs of records earlier runs published;
  without them, the stubs are grouped alone (a plain GroupByKey: a join's
  tagging, flattening and untagging cost each stub three more steps
  through the runner)."""

  def __init__(self, rule: str, key_fn, published=None):
    super().__init__()
    self._rule = rule
    self._key_fn = key_fn
    self._published = published

  def expand(self, stubs):
    keyed = stubs | 'Key' >> beam.Map(lambda s, f=self._key_fn: (f(s), s))
    if self._published is None:
      grouped = keyed | 'Group' >> beam.GroupByKey()
    else:
      grouped = {'stubs': keyed, 'published': self._published} | 'Group' >> beam.CoGroupByKey()
    return grouped | 'Keep' >> beam.ParDo(_ExactGroupFn(self._rule)).with_outputs(
      LINKS, main='stubs'
    )


# A band's buckets are spread over this many keys of the band shuffle (by
# their rows' first byte, uniform as MinHash values are): each key's group
# holds about 1/BAND_SHARDS of the records, so a band is grouped on as many
# workers as that at scale.
BAND_SHARDS = 64
# Sketches whose band rows go out together: a batch sends one element per
# band and shard it reaches (at most bands x BAND_SHARDS), not one per band
# and record, so the shuffle carries a few elements a record, not `bands`.
# (A stream's buckets stay keyed by ``minhash.band_keys``: they are the state
# keys of a running job.)
BAND_BATCH = 1024


def band_rows(batch: List[Tuple[str, Any]], bands: int):
  """A batch of (id, Sketch) -> ((band, shard), [(bucket, (order, id)),
  ...]) per band and shard the batch reaches. A record's bucket in a band
  is that band's rows of its signature, as bytes (records share a bucket
  when those rows are equal); buckets carry ids, not signatures, so the
  shuffle stays small. A bucket's members all reach the same (band, shard),
  whichever batch they came in."""
  rows: Dict[Tuple[int, int], List[Tuple[bytes, Tuple]]] = {}
  for _, sketch in batch:
    member = (sketch.order, sketch.id)
    signature = sketch.signature
    width = len(signature) // bands
    for band in range(bands):
      bucket = signature[band * width : (band + 1) * width]
      rows.setdefault((band, bucket[0] % BAND_SHARDS), []).append((bucket, member))
  return list(rows.items())


class _BucketPairsFn(beam.DoFn):
  """A band's shard -> the candidate pairs ((candidate id, kept id), kept
  order) of each bucket in it: each record with every better-ranked record
  of its bucket."""

  def __init__(self, max_bucket: int):
    self._max_bucket = max_bucket
    self._pairs = Metrics.counter(STAGE, 'candidate_pairs')

  def process(self, keyed):
    _, batches = keyed
    buckets: Dict[bytes, List[Tuple]] = {}
    for rows in batches:
      for key, member in rows:
        buckets.setdefault(key, []).append(member)
    for key in sorted(buckets):
      members = buckets[key]
      if len(members) < 2:
        continue
      members = sorted(set(members))[: self._max_bucket]
      for i, (order, candidate_id) in enumerate(members):
        if published_earlier(order):  # never a duplicate
          continue
        for kept_order, kept_id in members[:i]:
          self._pairs.inc()
          yield (candidate_id, kept_id), kept_order


# What a record is in the candidate pairs it belongs to, as the pairs'
# sketches meet for the test: the candidate of a pair, or the record kept.
CANDIDATE, KEPT_SKETCH = 'candidate', 'kept'


def _pair_roles(pair):
  """((candidate id, kept id), kept order) -> each record's role in the
  pair, keyed by its id: (kept id, kept order) for the candidate, None for
  the record kept."""
  (candidate_id, kept_id), kept_order = pair
  yield candidate_id, (kept_id, kept_order)
  yield kept_id, None


def _sketches_to_test(joined):
  """(id, {sketch, roles}) -> the record's sketch where the pairs need it,
  keyed by the kept record's id: (kept id, (CANDIDATE, sketch, kept
  order)) for each pair it is the candidate of (never a record an earlier
  run published), and (its id, (KEPT_SKETCH, sketch)) once if it is kept in
  any. A record in no pair (most of them) sends nothing on."""
  _, grouped = joined
  roles = list(grouped['roles'])
  if not roles:
    return
  for sketch in grouped['sketch']:
    kept = False
    for role in roles:
      if role is None:
        kept = True
      elif not sketch.published_earlier:
        kept_id, kept_order = role
        yield kept_id, (CANDIDATE, sketch, kept_order)
    if kept:
      yield sketch.id, (KEPT_SKETCH, sketch)


class _VerifyFn(beam.DoFn):
  """(kept id, [(KEPT_SKETCH, sketch) | (CANDIDATE, sketch, kept order)])
  -> (candidate id, (kept order, kept id, similarity, rule)) for each
  candidate that passes the test."""

  def __init__(self, config: Dict[str, Any]):
    self._config = config

  def setup(self):
    self._is_duplicate = NearDuplicateTest(self._config['threshold'], self._config['containment'])

  def process(self, grouped):
    kept_id, sketches = grouped
    kept_sketches, candidates = [], []
    for value in sketches:
      if value[0] == KEPT_SKETCH:
        kept_sketches.append(value[1])
      else:
        candidates.append(value[1:])
    for kept in kept_sketches:
      for candidate, kept_order in candidates:
        verdict = self._is_duplicate(candidate, kept)
        if verdict:
          yield candidate.id, (kept_order, kept_id, verdict[1], verdict[0])


class NearDuplicateLinks(beam.PTransform):
  """MinHash LSH: Stubs -> (duplicate id, (kept order, kept id, similarity,
  rule)), the best-ranked match of each duplicate. `published`: Sketches of
  records earlier runs published.

  Band keys group ids; the distinct candidate pairs then meet the sketches
  in one join by id, and only the sketches of records in a pair go on, to
  meet their pair's other sketch by the kept record's id and be verified:
  the signatures of all records are shuffled once, not once per band.
  """

  def __init__(self, config: Dict[str, Any], published=None):
    super().__init__()
    self._config = config
    self._published = published

  def expand(self, stubs):
    sketches = stubs | 'Sketches' >> beam.Map(lambda s: (s.id, s.sketch()))
    if self._published is not None:
      published = self._published | 'KeyPublished' >> beam.Map(lambda s: (s.id, s))
      sketches = (sketches, published) | 'WithPublished' >> beam.Flatten()
    roles = (
      sketches
      | 'BatchSketches' >> beam.BatchElements(min_batch_size=BAND_BATCH, max_batch_size=BAND_BATCH)
      | 'BandRows' >> beam.FlatMap(band_rows, self._config['bands'])
      | 'GroupBands' >> beam.GroupByKey()
      | 'BucketPairs' >> beam.ParDo(_BucketPairsFn(self._config['max_bucket']))
      | 'DistinctPairs' >> beam.CombinePerKey(min)
      | 'PairRoles' >> beam.FlatMap(_pair_roles)
    )
    return (
      {'sketch': sketches, 'roles': roles}
      | 'JoinPairs' >> beam.CoGroupByKey()
      | 'ToTest' >> beam.FlatMap(_sketches_to_test)
      | 'ByKept' >> beam.GroupByKey()
      | 'Verify' >> beam.ParDo(_VerifyFn(self._config))
      | 'BestMatch' >> beam.CombinePerKey(min)
    )


class _DecideFn(beam.DoFn):
  """Exact links and the stubs left after them -> (id, decision) for every
  record: (KEPT, cluster size) or (DUPLICATE, (kept id, similarity, rule)),
  and (ABSORBED, (partition, cluster size)) for the record a near-duplicate
  stands in; the stubs of the kept records go to `kept_stubs`.
  `roots`: duplicate id -> (id finally kept, similarity, rule) of the URL and
  near links, chains followed: an exact duplicate whose kept record later
  proved a duplicate itself points to the record finally kept."""

  def __init__(self):
    self._near = Metrics.counter(STAGE, 'near_duplicates')

  def process(self, item, roots):
    if isinstance(item, Stub):
      if item.id in roots:
        root, sim, rule = roots[item.id]
        self._near.inc()
        yield item.id, (DUPLICATE, (root, sim, rule))
        yield root, (ABSORBED, (item.partition, item.cluster_size))
      else:
        yield item.id, (KEPT, item.cluster_size)
        yield beam.pvalue.TaggedOutput(KEPT_STUBS, item)
      return
    duplicate_id, (kept_id, sim, rule) = item
    root = roots.get(kept_id)
    yield duplicate_id, (DUPLICATE, (root[0] if root else kept_id, sim, rule))


def packed(article: Dict[str, Any]) -> bytes:
  """A record as it waits for dedup's decisions: pickled and compressed,
  one bytes object. The DirectRunner holds a join's values decoded (a
  record dict takes 3 to 4 times its pickle) and, when the join is read,
  its whole input a second time, encoded: at 50,000 documents the plain
  records made the join the run's peak."""
  return zlib.compress(pickle.dumps(article, pickle.HIGHEST_PROTOCOL), 1)


def unpacked(data: bytes) -> Dict[str, Any]:
  return pickle.loads(zlib.decompress(data))


class _ApplyFn(beam.DoFn):
  """(id, [(ARTICLE, packed record) | decision]) -> the kept record, its
  cluster_size the inputs it stands for, or (tagged) duplicates with
  duplicate_of, similarity and duplicate_rule. Records sharing an id (the
  same text under the same URL, read twice) are one exact-body group: the
  best-ranked of them gets the group's decision and keeps the id, the
  others are its exact duplicates, with ids of their own
  (``schema.copy_id``)."""

  def __init__(self, rank=keep_rank, partition=one_partition):
    self._rank = rank
    self._partition = partition

  def process(self, joined):
    record_id, grouped = joined
    articles, absorbed, verdicts = [], [], []
    for kind, value in grouped:
      if kind == ARTICLE:
        articles.append(unpacked(value))
      else:
        (absorbed if kind == ABSORBED else verdicts).append((kind, value))
    if not articles:  # a record an earlier run published absorbed one
      return
    if len(articles) > 1:
      # The group's own decision first, then its exact duplicates.
      verdicts.sort(
        key=lambda verdict: verdict[0] == DUPLICATE and (1 + (verdict[1][2] == EXACT_BODY))
      )
      articles.sort(key=lambda a: (self._rank(a), schema.to_json_line(a)))
    # The group's first record keeps the id, unless a record an earlier run
    # published holds it: then each is a copy, numbered as in one run.
    held = bool(verdicts) and verdicts[0][0] == DUPLICATE and verdicts[0][1][0] == record_id
    for copy, (article, (kind, value)) in enumerate(zip(articles, verdicts), int(held)):
      if copy:
        article = dict(article, id=schema.copy_id(record_id, copy, DUPLICATES))
      if kind == KEPT:
        own = self._partition(article)
        yield dict(
          article,
          cluster_size=value + sum(size for _, (partition, size) in absorbed if partition == own),
        )
      else:
        yield beam.pvalue.TaggedOutput(DUPLICATES, as_duplicate(article, *value))


class Deduplicated(NamedTuple):
  """What ``Deduplicate`` gives: the kept articles, the duplicates, and the
  kept articles' Stubs (for the published-records index)."""

  articles: beam.PCollection
  duplicates: beam.PCollection
  kept_stubs: beam.PCollection


class Deduplicate(beam.PTransform):
  """Articles -> (kept articles, duplicates): exact body, canonical URL and
  part, then near-duplicate bodies.

  `published` (optional): index entries of records earlier runs published
  (see transforms/dedup/index.py); a record matching one is a duplicate of
  it, whatever its rank. `rank` orders the records of a run, the one to
  keep first (default ``keep_rank``; backfills put the earliest day first).
  `partition` (record -> key): a kept record's cluster_size counts only the
  inputs of its own partition (a backfill's day), so that a day's records do
  not depend on the days after it.
  Returns ``Deduplicated``: the kept articles, the duplicates, and the Stubs
  of the kept records (the index's entries, without sketching the records
  again).
  """

  def __init__(
    self, dedup_config: Dict[str, Any], published=None, rank=keep_rank, partition=one_partition
  ):
    super().__init__()
    self._config = dedup_config
    self._published = published
    self._rank = rank
    self._partition = partition

  def _published_by(self, name, key_fn):
    if self._published is None:
      return None
    return self._published | 'Published%s' % name >> beam.Map(lambda e, f=key_fn: (f(e), e))

  def expand(self, articles):
    stubs = articles | 'Stubs' >> beam.ParDo(_StubFn(self._config, self._rank, self._partition))
    by_body = stubs | 'ExactBody' >> ExactDuplicates(
      EXACT_BODY, lambda s: s.fingerprint, self._published_by('Body', lambda e: e['fingerprint'])
    )
    by_url = by_body.stubs | 'ExactUrl' >> ExactDuplicates(
      CANONICAL_URL, lambda s: s.url_key, self._published_by('Url', lambda e: e['url_key'])
    )
    published_sketches = None
    if self._published is not None:
      published_sketches = self._published | 'PublishedSketches' >> beam.Map(entry_sketch)
    near_links = by_url.stubs | 'Near' >> NearDuplicateLinks(self._config, published_sketches)
    url_links = by_url[LINKS] | 'UrlLinks' >> beam.Map(lambda link: (link[0], ((),) + link[1]))
    roots = (
      (near_links, url_links)
      | 'AllLinks' >> beam.Flatten()
      | 'ToDict' >> beam.combiners.ToDict()
      | 'ResolveRoots' >> beam.Map(resolve_roots)
    )
    decisions = (
      (by_body[LINKS], by_url[LINKS], by_url.stubs)
      | 'ToDecide' >> beam.Flatten()
      | 'Decide'
      >> beam.ParDo(_DecideFn(), beam.pvalue.AsSingleton(roots)).with_outputs(
        KEPT_STUBS, main='decisions'
      )
    )
    # The records meet their decisions by id: both keyed as (id, (kind,
    # value)), flattened and grouped (a join's tagging and untagging would
    # cost each element two more steps through the runner).
    packed_articles = articles | 'ById' >> beam.Map(lambda a: (a['id'], (ARTICLE, packed(a))))
    outcome = (
      (packed_articles, decisions.decisions)
      | 'ToJoin' >> beam.Flatten().with_output_types(Tuple[str, Tuple[str, Any]])
      | 'JoinDecisions' >> beam.GroupByKey()
      | 'Apply'
      >> beam.ParDo(_ApplyFn(self._rank, self._partition)).with_outputs(DUPLICATES, main='articles')
    )
    return Deduplicated(outcome.articles, outcome[DUPLICATES], decisions[KEPT_STUBS])
