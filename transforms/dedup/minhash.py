"""MinHash over word shingles of a story's running text, and the
near-duplicate test on two sketches (estimated Jaccard, or containment for a
story cut short). No Beam inside."""

import hashlib
import re
import zlib
from typing import TYPE_CHECKING, List, Optional, Set, Tuple

import numpy as np

from transforms import schema
from transforms.text.page import comparable
from transforms.text.runs import joined_runs

if TYPE_CHECKING:
  from transforms.dedup.rules import Sketch

# duplicate_rule values of the near-duplicate test.
NEAR = 'near'
CONTAINED = 'contained'
_MERSENNE = np.uint64((1 << 61) - 1)
_SHIFT = np.uint64(61)
_MAX_HASH = np.uint64((1 << 32) - 1)
SIGNATURE_DTYPE = np.dtype('<u4')
_SENTENCE_END = re.compile(r'[.!?\u2026]["\'\u201d\u2019\u00bb)\]]*\s*$')


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
    grams.update(joined_runs(words, size))
  return grams


def mod_mersenne(values: np.ndarray) -> np.ndarray:
  """`values` % (2**61 - 1), in place, for values under 2**64 (a*x + b of
  31-bit a, b and 32-bit x): a Mersenne modulus is a shift, a mask and an
  add, where numpy's % divides (a third of a sketch's time)."""
  high = values >> _SHIFT
  values &= _MERSENNE
  values += high  # under 2 * (2**61 - 1)
  np.subtract(values, _MERSENNE, out=values, where=values >= _MERSENNE)
  return values


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
    # CRC-32 of each shingle's UTF-8, in C (str.encode's default codec).
    hashes = np.fromiter(map(zlib.crc32, map(str.encode, grams)), dtype=np.uint64, count=len(grams))
    permuted = mod_mersenne(np.outer(self._a, hashes) + self._b[:, None])
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
