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

import base64
import hashlib
import pickle
import re
import zlib
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Set, Tuple

import apache_beam as beam
import numpy as np
from apache_beam.metrics import Metrics

from transforms import schema
from transforms.text.page import comparable

DUPLICATES = 'duplicates'
STAGE = 'dedup'
_MERSENNE = np.uint64((1 << 61) - 1)
_MAX_HASH = np.uint64((1 << 32) - 1)
SIGNATURE_DTYPE = np.dtype('<u4')
_SENTENCE_END = re.compile(r'[.!?\u2026]["\'\u201d\u2019\u00bb)\]]*\s*$')
# duplicate_rule values.
EXACT_BODY = 'exact_body'
CANONICAL_URL = 'canonical_url'
NEAR = 'near'
CONTAINED = 'contained'
# Tags of Deduplicate's internal outputs and decisions.
LINKS = 'links'
KEPT_STUBS = 'kept_stubs'
KEPT, DUPLICATE, ABSORBED = 'kept', 'duplicate', 'absorbed'


def keep_rank(article: Dict[str, Any]) -> Tuple[str, int, str]:
  """Sort key: the record to keep sorts first."""
  return (
    article.get('published_at') or '9999',
    -len(article.get('body') or ''),
    article.get('id') or '',
  )


def body_fingerprint(body: str) -> str:
  """Hash of the body as compared: case, punctuation and spacing ignored."""
  return hashlib.sha1(comparable(body).encode('utf-8')).hexdigest()


def url_key(article: Dict[str, Any]) -> str:
  """The canonical URL and part as dedup compares them: http and https, a
  leading www. and a trailing slash do not make another page."""
  url = article.get('canonical_url') or article.get('url') or ''
  scheme, sep, rest = url.partition('://')
  if sep and scheme.lower() in ('http', 'https'):
    host, slash, path = rest.partition('/')
    host = host[4:] if host.startswith('www.') else host
    url = '%s/%s' % (host, path.rstrip('/')) if slash else host
  return '%s#%d' % (url, article.get('part') or 0)


def running_text(body: str) -> List[str]:
  """The body's paragraphs that end like a sentence; all of them if none do.

  Site menus, link lists, datelines and credits that cleaning left in a body
  do not end like sentences: left out of the fingerprint, they neither make
  two stories of one site look alike nor one story on two sites look
  different.
  """
  paragraphs = schema.paragraphs(body)
  sentences = [p for p in paragraphs if _SENTENCE_END.search(p)]
  return sentences or paragraphs


def shingles(body: str, size: int) -> Set[str]:
  """Word n-grams of the body's running text, within paragraphs."""
  grams = set()
  for paragraph in running_text(body):
    words = comparable(paragraph).split()
    if len(words) <= size:
      if words:
        grams.add(' '.join(words))
      continue
    grams.update(' '.join(words[i : i + size]) for i in range(len(words) - size + 1))
  return grams


class MinHasher:
  """MinHash signatures with fixed permutations (the same on every worker)."""

  def __init__(self, num_perm: int, shingle_words: int, seed: int = 1):
    rng = np.random.RandomState(seed)
    self._a = rng.randint(1, 1 << 31, size=num_perm, dtype=np.uint64)
    self._b = rng.randint(0, 1 << 31, size=num_perm, dtype=np.uint64)
    self._shingle_words = shingle_words
    self.num_perm = num_perm

  def sketch(self, body: str) -> Tuple[np.ndarray, int]:
    """The body's signature and its number of distinct shingles."""
    grams = shingles(body, self._shingle_words)
    if not grams:
      return np.full(self.num_perm, _MAX_HASH, dtype=SIGNATURE_DTYPE), 0
    hashes = np.fromiter(
      (zlib.crc32(g.encode('utf-8')) for g in grams), dtype=np.uint64, count=len(grams)
    )
    permuted = (np.outer(self._a, hashes) + self._b[:, None]) % _MERSENNE
    # 32-bit values: half the bytes to shuffle, the same estimate.
    return ((permuted & _MAX_HASH).min(axis=1).astype(SIGNATURE_DTYPE), len(grams))

  def signature(self, body: str) -> np.ndarray:
    return self.sketch(body)[0]


def similarity(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
  """Estimated Jaccard similarity of two signatures."""
  return float(np.mean(sig_a == sig_b))


def containment(jaccard: float, size_a: int, size_b: int) -> float:
  """Estimated share of the smaller shingle set found in the larger one:
  |A & B| = J / (1 + J) * (|A| + |B|)."""
  if not size_a or not size_b:
    return 0.0
  shared = jaccard / (1 + jaccard) * (size_a + size_b)
  return min(1.0, shared / min(size_a, size_b))


class NearDuplicateTest:
  """Whether two sketches are near-duplicates, by which rule, how similar.

  `near`: estimated Jaccard >= threshold (copy edits, other sites' leftovers).
  `contained`: the shorter text lies at least `containment` inside the longer
  (a story cut short has a Jaccard of about the share kept, but is whole
  inside the original).
  """

  def __init__(self, threshold: float, min_containment: float):
    self._threshold = threshold
    self._min_containment = min_containment

  def __call__(self, sketch_a: 'Sketch', sketch_b: 'Sketch') -> Optional[Tuple[str, float]]:
    jaccard = similarity(sketch_a.values(), sketch_b.values())
    if jaccard >= self._threshold:
      return NEAR, jaccard
    contained = containment(jaccard, sketch_a.shingle_count, sketch_b.shingle_count)
    if contained >= self._min_containment:
      return CONTAINED, contained
    return None


def band_keys(signature: np.ndarray, bands: int) -> List[str]:
  rows = len(signature) // bands
  return [
    '%d:%s'
    % (
      i,
      hashlib.blake2b(signature[i * rows : (i + 1) * rows].tobytes(), digest_size=8).hexdigest(),
    )
    for i in range(bands)
  ]


class Sketch(NamedTuple):
  """What near-dedup needs of a record: `order` sorts the record to keep
  first (records published by earlier runs before all others)."""

  order: Tuple
  id: str
  signature: bytes
  shingle_count: int

  def values(self) -> np.ndarray:
    return np.frombuffer(self.signature, dtype=SIGNATURE_DTYPE)

  @property
  def published_earlier(self) -> bool:
    return published_earlier(self.order)


def sketch_order(rank: Iterable, earlier_run: bool = False) -> Tuple:
  return (0 if earlier_run else 1,) + tuple(rank)


def published_earlier(order: Tuple) -> bool:
  """Whether a sketch order is that of a record an earlier run published."""
  return order[0] == 0


def one_partition(record: Dict[str, Any]) -> None:
  """Every record of a run counts toward its cluster: the default of
  ``Deduplicate``'s `partition`."""
  return None


def stub_of(
  article: Dict[str, Any], hasher: MinHasher, rank=keep_rank, partition=one_partition
) -> 'Stub':
  """The record's Stub, ordered by `rank`."""
  body = article['body']
  signature, count = hasher.sketch(body)
  return Stub(
    article['id'],
    sketch_order(rank(article)),
    body_fingerprint(body),
    url_key(article),
    article.get('cluster_size') or 1,
    signature.tobytes(),
    count,
    partition(article),
  )


def index_entry(article: Dict[str, Any], run: str, hasher: MinHasher) -> Dict[str, Any]:
  """What a later run needs to recognise a published record: its exact keys,
  its sketch and its rank, and the run that published it."""
  return stub_index_entry(stub_of(article, hasher), run)


def stub_index_entry(stub: 'Stub', run: str) -> Dict[str, Any]:
  """The index entry of a record from its Stub (ranked as its run ranked
  it)."""
  return {
    'id': stub.id,
    'run': run,
    'fingerprint': stub.fingerprint,
    'url_key': stub.url_key,
    'rank': list(stub.order[1:]),
    'shingles': stub.shingle_count,
    'signature': base64.b64encode(stub.signature).decode('ascii'),
  }


def entry_sketch(entry: Dict[str, Any]) -> Sketch:
  return Sketch(
    sketch_order(entry['rank'], earlier_run=True),
    entry['id'],
    base64.b64decode(entry['signature']),
    entry['shingles'],
  )


def resolve_roots(
  links: Dict[str, Tuple[Any, str, float, str]],
) -> Dict[str, Tuple[str, float, str]]:
  """Follows duplicate -> kept chains to the record finally kept.

  `links` maps a duplicate's id to (kept order, kept id, similarity, rule).
  Every link points to a record that ranks strictly better, so chains end.
  """
  roots = {}
  for dup_id, (_, kept_id, sim, rule) in links.items():
    root, seen = kept_id, {dup_id}
    while root in links and root not in seen:
      seen.add(root)
      root = links[root][1]
    roots[dup_id] = (root, sim, rule)
  return roots


def as_duplicate(article: Dict[str, Any], kept_id: str, sim: float, rule: str) -> Dict[str, Any]:
  return dict(
    article, duplicate_of=kept_id, similarity=round(sim, 4), duplicate_rule=rule, cluster_size=None
  )


class Stub(NamedTuple):
  """What dedup decides on: a record's keys and sketch, without its text.

  Every rule runs on stubs; only the last step joins the decisions back onto
  the records, so a record's text crosses one shuffle in dedup, not four,
  and the exact-duplicate groups hold keys and ids, not bodies.
  """

  id: str
  order: Tuple
  fingerprint: str
  url_key: str
  cluster_size: int
  signature: bytes
  shingle_count: int
  # Only inputs of the kept record's own partition count in its cluster_size
  # (see ``Deduplicate``).
  partition: Any = None

  def sketch(self) -> Sketch:
    return Sketch(self.order, self.id, self.signature, self.shingle_count)


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
  run keeps none of its own."""

  def __init__(self, rule: str):
    self._rule = rule
    self._dupes = Metrics.counter(STAGE, 'exact_%s' % rule)

  def process(self, keyed):
    _, grouped = keyed
    stubs = sorted(grouped['stubs'], key=lambda s: s.order)
    if not stubs:
      return
    published = sorted(grouped['published'], key=lambda e: e['rank'])
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
  `published`: (key, index entry) pairs of records earlier runs published."""

  def __init__(self, rule: str, key_fn, published=None):
    super().__init__()
    self._rule = rule
    self._key_fn = key_fn
    self._published = published

  def expand(self, stubs):
    keyed = stubs | 'Key' >> beam.Map(lambda s, f=self._key_fn: (f(s), s))
    published = self._published
    if published is None:
      published = stubs.pipeline | 'NoPublished' >> beam.Create([])
    return (
      {'stubs': keyed, 'published': published}
      | 'Group' >> beam.CoGroupByKey()
      | 'Keep' >> beam.ParDo(_ExactGroupFn(self._rule)).with_outputs(LINKS, main='stubs')
    )


def band_members(keyed_sketch, bands: int):
  """(id, Sketch) -> (band key, (order, id)) per band: buckets carry ids,
  not signatures, so the shuffle stays small."""
  _, sketch = keyed_sketch
  return [(key, (sketch.order, sketch.id)) for key in band_keys(sketch.values(), bands)]


class _BucketPairsFn(beam.DoFn):
  """A band bucket -> its candidate pairs ((candidate id, kept id), kept
  order): each record with every better-ranked record of the bucket."""

  def __init__(self, max_bucket: int):
    self._max_bucket = max_bucket
    self._pairs = Metrics.counter(STAGE, 'candidate_pairs')

  def process(self, keyed):
    _, members = keyed
    members = sorted(set(members))[: self._max_bucket]
    for i, (order, candidate_id) in enumerate(members):
      if published_earlier(order):  # never a duplicate
        continue
      for kept_order, kept_id in members[:i]:
        self._pairs.inc()
        yield (candidate_id, kept_id), kept_order


def _with_candidate_sketch(joined):
  """(candidate id, {sketch, pairs}) -> (kept id, (candidate, kept order))."""
  _, grouped = joined
  for sketch in grouped['sketch']:
    if sketch.published_earlier:
      continue
    for kept_id, kept_order in grouped['pairs']:
      yield kept_id, (sketch, kept_order)


class _VerifyFn(beam.DoFn):
  """(kept id, {sketch, candidates}) -> (candidate id, (kept order, kept id,
  similarity, rule)) for each candidate that passes the test."""

  def __init__(self, config: Dict[str, Any]):
    self._config = config

  def setup(self):
    self._is_duplicate = NearDuplicateTest(self._config['threshold'], self._config['containment'])

  def process(self, joined):
    kept_id, grouped = joined
    for kept in grouped['sketch']:
      for candidate, kept_order in grouped['candidates']:
        verdict = self._is_duplicate(candidate, kept)
        if verdict:
          yield candidate.id, (kept_order, kept_id, verdict[1], verdict[0])


class NearDuplicateLinks(beam.PTransform):
  """MinHash LSH: Stubs -> (duplicate id, (kept order, kept id, similarity,
  rule)), the best-ranked match of each duplicate. `published`: Sketches of
  records earlier runs published.

  Band keys group ids; each distinct candidate pair is then joined with the
  two sketches and verified, so a signature travels twice, not once per band.
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
    pairs = (
      sketches
      | 'BandMembers' >> beam.FlatMap(band_members, self._config['bands'])
      | 'GroupBands' >> beam.GroupByKey()
      | 'BucketPairs' >> beam.ParDo(_BucketPairsFn(self._config['max_bucket']))
      | 'DistinctPairs' >> beam.CombinePerKey(min)
      | 'ByCandidate' >> beam.Map(lambda pair: (pair[0][0], (pair[0][1], pair[1])))
    )
    candidates = (
      {'sketch': sketches, 'pairs': pairs}
      | 'JoinCandidates' >> beam.CoGroupByKey()
      | 'ByKept' >> beam.FlatMap(_with_candidate_sketch)
    )
    return (
      {'sketch': sketches, 'candidates': candidates}
      | 'JoinKept' >> beam.CoGroupByKey()
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
  """(id, {articles, decisions}) -> the kept record, its cluster_size the
  inputs it stands for, or (tagged) duplicates with duplicate_of, similarity
  and duplicate_rule. Records sharing an id (the same text under the same
  URL, read twice) are one exact-body group: the best-ranked of them gets
  the group's decision, the others are its exact duplicates."""

  def __init__(self, rank=keep_rank, partition=one_partition):
    self._rank = rank
    self._partition = partition

  def process(self, joined):
    _, grouped = joined
    articles = [unpacked(a) for a in grouped['articles']]
    if not articles:  # a record an earlier run published absorbed one
      return
    absorbed, verdicts = [], []
    for kind, value in grouped['decisions']:
      (absorbed if kind == ABSORBED else verdicts).append((kind, value))
    if len(articles) > 1:
      # The group's own decision first, then its exact duplicates.
      verdicts.sort(
        key=lambda verdict: verdict[0] == DUPLICATE and (1 + (verdict[1][2] == EXACT_BODY))
      )
      articles.sort(key=lambda a: (self._rank(a), schema.to_json_line(a)))
    for article, (kind, value) in zip(articles, verdicts):
      if kind == KEPT:
        own = self._partition(article)
        yield dict(
          article,
          cluster_size=value + sum(size for _, (partition, size) in absorbed if partition == own),
        )
      else:
        yield beam.pvalue.TaggedOutput(DUPLICATES, as_duplicate(article, *value))


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
  After expansion, ``kept_stubs`` holds the Stubs of the kept records (the
  index's entries, without sketching the records again).
  """

  def __init__(
    self, dedup_config: Dict[str, Any], published=None, rank=keep_rank, partition=one_partition
  ):
    super().__init__()
    self._config = dedup_config
    self._published = published
    self._rank = rank
    self._partition = partition
    self.kept_stubs = None

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
    self.kept_stubs = decisions[KEPT_STUBS]
    outcome = (
      {
        'articles': articles | 'ById' >> beam.Map(lambda a: (a['id'], packed(a))),
        'decisions': decisions.decisions,
      }
      | 'JoinDecisions' >> beam.CoGroupByKey()
      | 'Apply'
      >> beam.ParDo(_ApplyFn(self._rank, self._partition)).with_outputs(DUPLICATES, main='articles')
    )
    return outcome.articles, outcome[DUPLICATES]
