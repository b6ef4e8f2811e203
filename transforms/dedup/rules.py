"""Dedup's rules on one record: which copy is kept (``keep_rank``), its exact
keys, the ``Stub`` every rule decides on, the index entries made from stubs,
and chains of duplicates resolved to the record finally kept. No Beam
inside."""

import base64
import hashlib
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Tuple

import numpy as np

from transforms import schema
from transforms.dedup.minhash import SIGNATURE_DTYPE, MinHasher
from transforms.io.timestamps import publication_rank
from transforms.text.digest import text_digest
from transforms.text.page import comparable

# duplicate_rule values.
EXACT_BODY = 'exact_body'
CANONICAL_URL = 'canonical_url'


def keep_rank(article: Dict[str, Any]) -> Tuple[str, int, str]:
  """Sort key: the record to keep sorts first (the earliest published; a
  known time of day before a bare day of the same day)."""
  return (
    publication_rank(article.get('published_at')),
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


class BodyKeys(NamedTuple):
  """What dedup keys on in a body: its fingerprint (exact copies), its
  MinHash signature and its number of distinct shingles (near copies)."""

  fingerprint: str
  signature: bytes
  shingle_count: int


def body_keys_of(body: str, hasher: MinHasher) -> BodyKeys:
  signature, count = hasher.sketch(body)
  return BodyKeys(body_fingerprint(body), signature.tobytes(), count)


# This process's MinHashers, by (num_perm, shingle_words).
_HASHERS: Dict[Tuple[int, int], MinHasher] = {}


def bodies_keys(num_perm: int, shingle_words: int, bodies: List[str]) -> List[BodyKeys]:
  """Each body's keys with the MinHasher of those settings: what a child of
  the worker's pool runs (``SketchAhead``)."""
  hasher = _HASHERS.get((num_perm, shingle_words))
  if hasher is None:
    hasher = _HASHERS[(num_perm, shingle_words)] = MinHasher(num_perm, shingle_words)
  return [body_keys_of(body, hasher) for body in bodies]


def sketched_ahead(body: str, keys: BodyKeys) -> Dict[str, Any]:
  """The record's `schema.SKETCH_AHEAD` field: `keys`, worked out from
  `body`."""
  return {'from': text_digest(body), 'keys': tuple(keys)}


def keys_ahead(article: Dict[str, Any]) -> Optional[BodyKeys]:
  """The body keys worked out ahead (``schema.SKETCH_AHEAD``), when they
  are still the article's body's."""
  ahead = article.get(schema.SKETCH_AHEAD)
  if ahead is None or ahead['from'] != text_digest(article['body']):
    return None
  return BodyKeys(*ahead['keys'])


def body_keys(article: Dict[str, Any], hasher: MinHasher) -> BodyKeys:
  """The article's body keys: worked out ahead, or here."""
  return keys_ahead(article) or body_keys_of(article['body'], hasher)


def article_fingerprint(article: Dict[str, Any]) -> str:
  """The article's body fingerprint: worked out ahead, or here."""
  keys = keys_ahead(article)
  return keys.fingerprint if keys else body_fingerprint(article['body'])


def stub_of(
  article: Dict[str, Any], hasher: MinHasher, rank=keep_rank, partition=one_partition
) -> 'Stub':
  """The record's Stub, ordered by `rank`."""
  keys = body_keys(article, hasher)
  return Stub(
    article['id'],
    sketch_order(rank(article)),
    keys.fingerprint,
    url_key(article),
    article.get('cluster_size') or 1,
    keys.signature,
    keys.shingle_count,
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
