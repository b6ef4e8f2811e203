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
"""

import base64
import hashlib
import re
import zlib
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Set, Tuple

import numpy as np

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms import schema
from transforms.clean import comparable

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


def keep_rank(article: Dict[str, Any]) -> Tuple[str, int, str]:
  """Sort key: the record to keep sorts first."""
  return (article.get('published_at') or '9999',
          -len(article.get('body') or ''), article.get('id') or '')


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
    grams.update(' '.join(words[i:i + size])
                 for i in range(len(words) - size + 1))
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
    hashes = np.fromiter((zlib.crc32(g.encode('utf-8')) for g in grams),
                         dtype=np.uint64, count=len(grams))
    permuted = (np.outer(self._a, hashes) + self._b[:, None]) % _MERSENNE
    # 32-bit values: half the bytes to shuffle, the same estimate.
    return ((permuted & _MAX_HASH).min(axis=1).astype(SIGNATURE_DTYPE),
            len(grams))

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

  def __call__(self, sketch_a: 'Sketch', sketch_b: 'Sketch'
               ) -> Optional[Tuple[str, float]]:
    jaccard = similarity(sketch_a.values(), sketch_b.values())
    if jaccard >= self._threshold:
      return NEAR, jaccard
    contained = containment(jaccard, sketch_a.shingle_count,
                            sketch_b.shingle_count)
    if contained >= self._min_containment:
      return CONTAINED, contained
    return None


def band_keys(signature: np.ndarray, bands: int) -> List[str]:
  rows = len(signature) // bands
  return ['%d:%s' % (i, hashlib.blake2b(
      signature[i * rows:(i + 1) * rows].tobytes(), digest_size=8).hexdigest())
          for i in range(bands)]


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


def index_entry(article: Dict[str, Any], run: str, hasher: MinHasher,
                rank=keep_rank) -> Dict[str, Any]:
  """What a later run needs to recognise a published record: its exact keys,
  its sketch and its rank (as `rank` orders the run's records), and the run
  that published it."""
  signature, count = hasher.sketch(article['body'])
  return {
      'id': article['id'],
      'run': run,
      'fingerprint': body_fingerprint(article['body']),
      'url_key': url_key(article),
      'rank': list(rank(article)),
      'shingles': count,
      'signature': base64.b64encode(signature.tobytes()).decode('ascii'),
  }


def entry_sketch(entry: Dict[str, Any]) -> Sketch:
  return Sketch(sketch_order(entry['rank'], earlier_run=True),
                entry['id'], base64.b64decode(entry['signature']),
                entry['shingles'])


def one_partition(record: Dict[str, Any]) -> None:
  """Every record of a run counts toward its cluster: the default of
  ``Deduplicate``'s `partition`."""
  return None


def pick_kept(group: Iterable[Dict[str, Any]], rank=keep_rank):
  """The kept record of an exact-duplicate group, and the others."""
  ranked = sorted(group, key=rank)
  return ranked[0], ranked[1:]


def resolve_roots(links: Dict[str, Tuple[Any, str, float, str]]
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


def as_duplicate(article: Dict[str, Any], kept_id: str, sim: float,
                 rule: str) -> Dict[str, Any]:
  return dict(article, duplicate_of=kept_id, similarity=round(sim, 4),
              duplicate_rule=rule, cluster_size=None)


class _ExactGroupFn(beam.DoFn):
  """Keeps the best record of each group; the rest are duplicates. A group
  holding a record published by an earlier run keeps none of its own."""

  def __init__(self, rule: str, rank=keep_rank, partition=one_partition):
    self._rule = rule
    self._rank = rank
    self._partition = partition
    self._dupes = Metrics.counter(STAGE, 'exact_%s' % rule)

  def process(self, keyed):
    _, grouped = keyed
    articles = list(grouped['articles'])
    if not articles:
      return
    published = sorted(grouped['published'], key=lambda e: e['rank'])
    if published:
      kept, others, kept_id = None, articles, published[0]['id']
    else:
      kept, others = pick_kept(articles, self._rank)
      kept_id = kept['id']
    for other in others:
      self._dupes.inc()
      yield beam.pvalue.TaggedOutput(
          DUPLICATES, as_duplicate(other, kept_id, 1.0, self._rule))
    if kept:
      own = self._partition(kept)
      yield dict(kept, cluster_size=sum(
          a.get('cluster_size') or 1 for a in articles
          if self._partition(a) == own))


class ExactDuplicates(beam.PTransform):
  """One record per key; the others go to `duplicates`. `published`:
  (key, index entry) pairs of records earlier runs published; `rank` orders
  a group, the record to keep first; `partition` (see ``Deduplicate``)."""

  def __init__(self, rule: str, key_fn, published=None, rank=keep_rank,
               partition=one_partition):
    super().__init__()
    self._rule = rule
    self._key_fn = key_fn
    self._published = published
    self._rank = rank
    self._partition = partition

  def expand(self, articles):
    keyed = articles | 'Key' >> beam.Map(lambda a, f=self._key_fn: (f(a), a))
    published = self._published
    if published is None:
      published = articles.pipeline | 'NoPublished' >> beam.Create([])
    return ({'articles': keyed, 'published': published}
            | 'Group' >> beam.CoGroupByKey()
            | 'Keep' >> beam.ParDo(_ExactGroupFn(
                self._rule, self._rank, self._partition)).with_outputs(
                DUPLICATES, main='articles'))


class SketchingDoFn(beam.DoFn):
  """A DoFn with the MinHasher of the `dedup` config, built once per
  worker."""

  def __init__(self, config: Dict[str, Any]):
    self._config = config

  def setup(self):
    self._hasher = MinHasher(self._config['num_perm'],
                             self._config['shingle_words'])


class _SignFn(SketchingDoFn):
  """article -> (id, Sketch), ordered by `rank`."""

  def __init__(self, config: Dict[str, Any], rank=keep_rank):
    super().__init__(config)
    self._rank = rank

  def process(self, article):
    signature, count = self._hasher.sketch(article['body'])
    yield article['id'], Sketch(sketch_order(self._rank(article)),
                                article['id'], signature.tobytes(), count)


def band_members(keyed_sketch, bands: int):
  """(id, Sketch) -> (band key, (order, id)) per band: buckets carry ids,
  not signatures, so the shuffle stays small."""
  _, sketch = keyed_sketch
  return [(key, (sketch.order, sketch.id))
          for key in band_keys(sketch.values(), bands)]


class _BucketPairsFn(beam.DoFn):
  """A band bucket -> its candidate pairs ((candidate id, kept id), kept
  order): each record with every better-ranked record of the bucket."""

  def __init__(self, max_bucket: int):
    self._max_bucket = max_bucket
    self._pairs = Metrics.counter(STAGE, 'candidate_pairs')

  def process(self, keyed):
    _, members = keyed
    members = sorted(set(members))[:self._max_bucket]
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
    self._is_duplicate = NearDuplicateTest(self._config['threshold'],
                                           self._config['containment'])

  def process(self, joined):
    kept_id, grouped = joined
    for kept in grouped['sketch']:
      for candidate, kept_order in grouped['candidates']:
        verdict = self._is_duplicate(candidate, kept)
        if verdict:
          yield candidate.id, (kept_order, kept_id, verdict[1], verdict[0])


class NearDuplicateLinks(beam.PTransform):
  """MinHash LSH: records -> (duplicate id, (kept order, kept id, similarity,
  rule)), the best-ranked match of each duplicate. `published`: Sketches of
  records earlier runs published.

  Band keys group ids; each distinct candidate pair is then joined with the
  two sketches and verified, so a signature travels twice, not once per band.
  """

  def __init__(self, config: Dict[str, Any], published=None,
               rank=keep_rank):
    super().__init__()
    self._config = config
    self._published = published
    self._rank = rank

  def expand(self, articles):
    sketches = articles | 'Sign' >> beam.ParDo(_SignFn(self._config,
                                                       self._rank))
    if self._published is not None:
      published = self._published | 'KeyPublished' >> beam.Map(
          lambda s: (s.id, s))
      sketches = (sketches, published) | 'WithPublished' >> beam.Flatten()
    pairs = (sketches
             | 'BandMembers' >> beam.FlatMap(band_members,
                                             self._config['bands'])
             | 'GroupBands' >> beam.GroupByKey()
             | 'BucketPairs' >> beam.ParDo(
                 _BucketPairsFn(self._config['max_bucket']))
             | 'DistinctPairs' >> beam.CombinePerKey(min)
             | 'ByCandidate' >> beam.Map(
                 lambda pair: (pair[0][0], (pair[0][1], pair[1]))))
    candidates = ({'sketch': sketches, 'pairs': pairs}
                  | 'JoinCandidates' >> beam.CoGroupByKey()
                  | 'ByKept' >> beam.FlatMap(_with_candidate_sketch))
    return ({'sketch': sketches, 'candidates': candidates}
            | 'JoinKept' >> beam.CoGroupByKey()
            | 'Verify' >> beam.ParDo(_VerifyFn(self._config))
            | 'BestMatch' >> beam.CombinePerKey(min))


class _AssignFn(beam.DoFn):
  """Marks near-duplicates (their cluster_size, still the count they stood
  for, is added to the kept record's afterwards)."""

  def process(self, article, roots):
    if article['id'] in roots:
      root, sim, rule = roots[article['id']]
      Metrics.counter(STAGE, 'near_duplicates').inc()
      yield beam.pvalue.TaggedOutput(DUPLICATES, dict(
          article, duplicate_of=root, similarity=round(sim, 4),
          duplicate_rule=rule))
    else:
      yield article


def repoint(duplicate: Dict[str, Any], roots) -> Dict[str, Any]:
  """An exact duplicate whose kept record later proved a duplicate itself
  points to the record finally kept."""
  target = roots.get(duplicate['duplicate_of'])
  return dict(duplicate, duplicate_of=target[0]) if target else duplicate


class _AddClusterSizes(beam.DoFn):
  """Adds the sizes its near-duplicates of its own partition stood for to a
  kept record's cluster_size."""

  def __init__(self, partition=one_partition):
    self._partition = partition

  def process(self, joined):
    _, grouped = joined
    for article in grouped['articles']:
      own = self._partition(article)
      extra = sum(size for partition, size in grouped['absorbed']
                  if partition == own)
      yield dict(article, cluster_size=(article.get('cluster_size') or 1) + extra)


class Deduplicate(beam.PTransform):
  """Articles -> (kept articles, duplicates): exact body, canonical URL and
  part, then near-duplicate bodies.

  `published` (optional): index entries of records earlier runs published
  (see transforms/dedup_index.py); a record matching one is a duplicate of
  it, whatever its rank. `rank` orders the records of a run, the one to
  keep first (default ``keep_rank``; backfills put the earliest day first).
  `partition` (record -> key): a kept record's cluster_size counts only the
  inputs of its own partition (a backfill's day), so that a day's records do
  not depend on the days after it.
  """

  def __init__(self, dedup_config: Dict[str, Any], published=None,
               rank=keep_rank, partition=one_partition):
    super().__init__()
    self._config = dedup_config
    self._published = published
    self._rank = rank
    self._partition = partition

  def _published_by(self, name, key_fn):
    if self._published is None:
      return None
    return self._published | 'Published%s' % name >> beam.Map(
        lambda e, f=key_fn: (f(e), e))

  def expand(self, articles):
    by_body = articles | 'ExactBody' >> ExactDuplicates(
        EXACT_BODY, lambda a: body_fingerprint(a['body']),
        self._published_by('Body', lambda e: e['fingerprint']), self._rank,
        self._partition)
    by_url = by_body.articles | 'ExactUrl' >> ExactDuplicates(
        CANONICAL_URL, url_key,
        self._published_by('Url', lambda e: e['url_key']), self._rank,
        self._partition)
    published_sketches = None
    if self._published is not None:
      published_sketches = self._published | 'PublishedSketches' >> beam.Map(
          entry_sketch)
    near_links = by_url.articles | 'Near' >> NearDuplicateLinks(
        self._config, published_sketches, self._rank)
    url_links = by_url[DUPLICATES] | 'UrlLinks' >> beam.Map(
        lambda d: (d['id'], ((), d['duplicate_of'], 1.0, CANONICAL_URL)))
    roots = ((near_links, url_links)
             | 'AllLinks' >> beam.Flatten()
             | 'ToDict' >> beam.combiners.ToDict()
             | 'ResolveRoots' >> beam.Map(resolve_roots))
    near = by_url.articles | 'Assign' >> beam.ParDo(
        _AssignFn(), beam.pvalue.AsSingleton(roots)).with_outputs(
            DUPLICATES, main='articles')
    absorbed = (near[DUPLICATES]
                | 'AbsorbedSize' >> beam.Map(
                    lambda d, p=self._partition: (d['duplicate_of'], (
                        p(d), d.get('cluster_size') or 1))))
    kept = ({'articles': near.articles | 'KeyKept' >> beam.Map(
        lambda a: (a['id'], a)), 'absorbed': absorbed}
            | 'JoinSizes' >> beam.CoGroupByKey()
            | 'AddSizes' >> beam.ParDo(_AddClusterSizes(self._partition)))
    near_duplicates = near[DUPLICATES] | 'ClearSizes' >> beam.Map(
        lambda d: dict(d, cluster_size=None))
    exact_duplicates = ((by_body[DUPLICATES], by_url[DUPLICATES])
                        | 'ExactDuplicates' >> beam.Flatten()
                        | 'Repoint' >> beam.Map(
                            repoint, beam.pvalue.AsSingleton(roots)))
    duplicates = ((exact_duplicates, near_duplicates)
                  | 'AllDuplicates' >> beam.Flatten())
    return kept, duplicates
