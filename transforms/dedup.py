"""Deduplication: exact (body hash, canonical URL) and near-duplicate
(MinHash over word shingles with LSH banding), within a run.

Which record of a group is kept is decided by ``keep_rank``: the earliest
published, then the longest body, then the smallest id, so the same input
keeps the same record on every run and runner. Duplicates carry
`duplicate_of` (the kept record's id) and `similarity`; kept records carry
`cluster_size`, the number of inputs they stand for.

Near-duplicates never compare all pairs: each record emits one key per LSH
band, records sharing a band bucket are candidates, and candidates are
verified by their estimated Jaccard similarity.
"""

import hashlib
import zlib
from typing import Any, Dict, Iterable, List, Tuple

import numpy as np

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms import schema
from transforms.clean import comparable

DUPLICATES = 'duplicates'
STAGE = 'dedup'
_MERSENNE = np.uint64((1 << 61) - 1)
_MAX_HASH = np.uint64((1 << 32) - 1)


def keep_rank(article: Dict[str, Any]) -> Tuple[str, int, str]:
  """Sort key: the record to keep sorts first."""
  return (article.get('published_at') or '9999',
          -len(article.get('body') or ''), article.get('id') or '')


def body_fingerprint(body: str) -> str:
  """Hash of the body as compared: case, punctuation and spacing ignored."""
  return hashlib.sha1(comparable(body).encode('utf-8')).hexdigest()


def shingles(body: str, size: int) -> List[str]:
  words = comparable(body).split()
  if len(words) <= size:
    return [' '.join(words)] if words else []
  return [' '.join(words[i:i + size]) for i in range(len(words) - size + 1)]


class MinHasher:
  """MinHash signatures with fixed permutations (the same on every worker)."""

  def __init__(self, num_perm: int, shingle_words: int, seed: int = 1):
    rng = np.random.RandomState(seed)
    self._a = rng.randint(1, 1 << 31, size=num_perm, dtype=np.uint64)
    self._b = rng.randint(0, 1 << 31, size=num_perm, dtype=np.uint64)
    self._shingle_words = shingle_words
    self.num_perm = num_perm

  def signature(self, body: str) -> np.ndarray:
    grams = shingles(body, self._shingle_words)
    if not grams:
      return np.full(self.num_perm, _MAX_HASH, dtype=np.uint64)
    hashes = np.fromiter((zlib.crc32(g.encode('utf-8')) for g in set(grams)),
                         dtype=np.uint64)
    permuted = (np.outer(self._a, hashes) + self._b[:, None]) % _MERSENNE
    return (permuted & _MAX_HASH).min(axis=1)


def similarity(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
  """Estimated Jaccard similarity of two signatures."""
  return float(np.mean(sig_a == sig_b))


def band_keys(signature: np.ndarray, bands: int) -> List[str]:
  rows = len(signature) // bands
  return ['%d:%s' % (i, hashlib.blake2b(
      signature[i * rows:(i + 1) * rows].tobytes(), digest_size=8).hexdigest())
          for i in range(bands)]


def pick_kept(group: Iterable[Dict[str, Any]], rank=keep_rank):
  """The kept record of an exact-duplicate group, and the others."""
  ranked = sorted(group, key=rank)
  return ranked[0], ranked[1:]


class _ExactGroupFn(beam.DoFn):
  """Keeps the best record of each group; the rest are duplicates."""

  def __init__(self, rule: str, rank):
    self._rule = rule
    self._rank = rank
    self._dupes = Metrics.counter(STAGE, 'exact_%s' % rule)

  def process(self, keyed):
    _, group = keyed
    kept, others = pick_kept(group, self._rank)
    size = kept.get('cluster_size') or 1
    for other in others:
      size += other.get('cluster_size') or 1
      self._dupes.inc()
      yield beam.pvalue.TaggedOutput(DUPLICATES, dict(
          other, duplicate_of=kept['id'], similarity=1.0,
          duplicate_rule=self._rule, cluster_size=None))
    yield dict(kept, cluster_size=size)


class ExactDuplicates(beam.PTransform):
  """One record per key; the others go to `duplicates`."""

  def __init__(self, rule: str, key_fn, rank=keep_rank):
    super().__init__()
    self._rule = rule
    self._key_fn = key_fn
    self._rank = rank

  def expand(self, articles):
    return (articles
            | 'Key' >> beam.Map(lambda a, f=self._key_fn: (f(a), a))
            | 'Group' >> beam.GroupByKey()
            | 'Keep' >> beam.ParDo(_ExactGroupFn(
                self._rule, self._rank)).with_outputs(
                DUPLICATES, main='articles'))


class _SignFn(beam.DoFn):

  def __init__(self, config, rank):
    self._config = config
    self._rank = rank

  def setup(self):
    self._hasher = MinHasher(self._config['num_perm'],
                             self._config['shingle_words'])

  def process(self, article):
    signature = self._hasher.signature(article['body'])
    member = (article['id'], self._rank(article), signature)
    for key in band_keys(signature, self._config['bands']):
      yield key, member


class _VerifyBucketFn(beam.DoFn):
  """Candidate pairs in one band bucket -> (duplicate, (kept, similarity))."""

  def __init__(self, threshold: float, max_bucket: int):
    self._threshold = threshold
    self._max_bucket = max_bucket
    self._pairs = Metrics.counter(STAGE, 'candidate_pairs')

  def process(self, keyed):
    _, members = keyed
    members = sorted({m[0]: m for m in members}.values(), key=lambda m: m[1])
    if len(members) < 2:
      return
    members = members[:self._max_bucket]
    for i, (dup_id, _, dup_sig) in enumerate(members):
      for kept_id, kept_rank, kept_sig in members[:i]:
        self._pairs.inc()
        sim = similarity(dup_sig, kept_sig)
        if sim >= self._threshold:
          yield dup_id, (kept_rank, kept_id, sim)


def resolve_roots(best_match: Dict[str, Tuple[Any, str, float]]
                  ) -> Dict[str, Tuple[str, float]]:
  """Follows duplicate -> kept chains to the record finally kept.

  Every link points to a record that ranks strictly better, so chains end.
  """
  roots = {}
  for dup_id, (_, kept_id, sim) in best_match.items():
    root, seen = kept_id, {dup_id}
    while root in best_match and root not in seen:
      seen.add(root)
      root = best_match[root][1]
    roots[dup_id] = (root, sim)
  return roots


class NearDuplicates(beam.PTransform):
  """MinHash LSH: records -> kept records (main) and `duplicates`."""

  def __init__(self, config: Dict[str, Any], rank=keep_rank):
    super().__init__()
    self._config = config
    self._rank = rank

  def expand(self, articles):
    config = self._config
    matches = (articles
               | 'Sign' >> beam.ParDo(_SignFn(config, self._rank))
               | 'GroupBands' >> beam.GroupByKey()
               | 'Verify' >> beam.ParDo(_VerifyBucketFn(
                   config['threshold'], config['max_bucket']))
               | 'BestMatch' >> beam.CombinePerKey(min)
               | 'AllMatches' >> beam.combiners.ToDict())
    roots = matches | 'ResolveRoots' >> beam.Map(resolve_roots)
    return articles | 'Assign' >> beam.ParDo(
        _AssignFn(), beam.pvalue.AsSingleton(roots)).with_outputs(
            DUPLICATES, main='articles')


class _AssignFn(beam.DoFn):
  """Marks near-duplicates; adds their cluster sizes to the kept record."""

  def process(self, article, roots):
    if article['id'] in roots:
      root, sim = roots[article['id']]
      Metrics.counter(STAGE, 'near_duplicates').inc()
      # cluster_size is still the count this record stood for; it is added
      # to the kept record's, then cleared.
      yield beam.pvalue.TaggedOutput(DUPLICATES, dict(
          article, duplicate_of=root, similarity=round(sim, 4),
          duplicate_rule='near'))
    else:
      yield article


class _AddClusterSizes(beam.DoFn):

  def process(self, joined):
    _, grouped = joined
    for article in grouped['articles']:
      extra = sum(grouped['absorbed'])
      yield dict(article, cluster_size=(article.get('cluster_size') or 1) + extra)


class Deduplicate(beam.PTransform):
  """Articles -> (kept articles, duplicates): exact body, canonical URL and
  part, then near-duplicate bodies. `rank` orders a group, the record to
  keep first (default: ``keep_rank``)."""

  def __init__(self, dedup_config: Dict[str, Any], rank=keep_rank):
    super().__init__()
    self._config = dedup_config
    self._rank = rank

  def expand(self, articles):
    by_body = articles | 'ExactBody' >> ExactDuplicates(
        'exact_body', lambda a: body_fingerprint(a['body']), self._rank)
    by_url = by_body.articles | 'ExactUrl' >> ExactDuplicates(
        'canonical_url', lambda a: '%s#%d' % (a['canonical_url'], a['part']),
        self._rank)
    near = by_url.articles | 'Near' >> NearDuplicates(self._config, self._rank)
    absorbed = (near[DUPLICATES]
                | 'AbsorbedSize' >> beam.Map(
                    lambda d: (d['duplicate_of'], d.get('cluster_size') or 1)))
    kept = ({'articles': near.articles | 'KeyKept' >> beam.Map(
        lambda a: (a['id'], a)), 'absorbed': absorbed}
            | 'JoinSizes' >> beam.CoGroupByKey()
            | 'AddSizes' >> beam.ParDo(_AddClusterSizes()))
    near_duplicates = near[DUPLICATES] | 'ClearSizes' >> beam.Map(
        lambda d: dict(d, cluster_size=None))
    duplicates = ((by_body[DUPLICATES], by_url[DUPLICATES], near_duplicates)
                  | 'AllDuplicates' >> beam.Flatten())
    return kept, duplicates
