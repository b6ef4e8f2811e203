"""Near-duplicate verification: the candidate pairs meet the sketches in one
join by id, and only the sketches of records in a pair go on, each keyed by
the kept record's id, so that every pair is tested once, on both sketches."""

import random

import numpy as np

from transforms.dedup.batch import (
  CANDIDATE,
  KEPT_SKETCH,
  _pair_roles,
  _sketches_to_test,
  _VerifyFn,
)
from transforms.dedup.rules import SIGNATURE_DTYPE, Sketch, sketch_order


def sketch(record_id, values, earlier_run=False, shingles=50):
  order = sketch_order(('2022-04-01', -10, record_id), earlier_run=earlier_run)
  return Sketch(order, record_id, np.array(values, dtype=SIGNATURE_DTYPE).tobytes(), shingles)


def grouped(pairs, sketches):
  """What the join by id, then the grouping by kept id, give: the
  sketches to test, keyed by kept id, as the runner would group them."""
  roles = {}
  for pair in pairs:
    for record_id, role in _pair_roles(pair):
      roles.setdefault(record_id, []).append(role)
  by_id = {}
  for s in sketches:
    by_id.setdefault(s.id, []).append(s)
  to_test = {}
  for record_id in sorted(set(roles) | set(by_id)):
    joined = (record_id, {'sketch': by_id.get(record_id, []), 'roles': roles.get(record_id, [])})
    for kept_id, value in _sketches_to_test(joined):
      to_test.setdefault(kept_id, []).append(value)
  return to_test


def test_a_record_in_no_pair_sends_nothing_on():
  joined = ('a', {'sketch': [sketch('a', [1, 2, 3, 4])], 'roles': []})
  assert list(_sketches_to_test(joined)) == []


def test_each_pair_meets_both_sketches_once():
  a, b, c = sketch('a', [1, 2, 3, 4]), sketch('b', [1, 2, 3, 5]), sketch('c', [1, 2, 3, 6])
  # b is the candidate of a; c the candidate of a and of b; a is kept twice.
  pairs = [(('b', 'a'), a.order), (('c', 'a'), a.order), (('c', 'b'), b.order)]
  to_test = grouped(pairs, [a, b, c])
  assert sorted(to_test) == ['a', 'b']
  assert to_test['a'].count((KEPT_SKETCH, a)) == 1  # once, however many pairs keep it
  assert sorted(v[1].id for v in to_test['a'] if v[0] == CANDIDATE) == ['b', 'c']
  assert (KEPT_SKETCH, b) in to_test['b'] and (CANDIDATE, c, b.order) in to_test['b']


def test_a_record_an_earlier_run_published_is_never_a_candidate():
  old = sketch('old', [1, 2, 3, 4], earlier_run=True)
  new = sketch('new', [1, 2, 3, 4])
  # A pair naming the published record as the candidate (never made by the
  # band buckets, which skip it) still sends only its kept side.
  to_test = grouped([(('old', 'new'), new.order), (('new', 'old'), old.order)], [old, new])
  assert sorted(to_test['old'], key=repr) == sorted(
    [(KEPT_SKETCH, old), (CANDIDATE, new, old.order)], key=repr
  )
  assert to_test['new'] == [(KEPT_SKETCH, new)]


def test_verdicts_match_testing_every_pair_directly():
  """On random sketches with many shared rows, the grouped verification
  gives, for each candidate pair, the verdict of the test on the two
  sketches themselves."""
  rng = random.Random(7)
  base = [rng.randrange(2**32) for _ in range(16)]
  sketches = []
  for i in range(30):
    values = [v if rng.random() < 0.85 else rng.randrange(2**32) for v in base]
    sketches.append(sketch('r%02d' % i, values, shingles=rng.randrange(20, 80)))
  pairs = [
    ((c.id, k.id), k.order)
    for i, k in enumerate(sketches)
    for c in sketches[i + 1 :]
    if rng.random() < 0.4
  ]
  verify = _VerifyFn({'threshold': 0.8, 'containment': 0.9})
  verify.setup()
  through_groups = sorted(
    out
    for kept_id, values in grouped(pairs, sketches).items()
    for out in verify.process((kept_id, values))
  )
  by_id = {s.id: s for s in sketches}
  direct = []
  for (candidate_id, kept_id), kept_order in pairs:
    verdict = verify._is_duplicate(by_id[candidate_id], by_id[kept_id])
    if verdict:
      direct.append((candidate_id, (kept_order, kept_id, verdict[1], verdict[0])))
  assert through_groups == sorted(direct)
  assert direct  # the sketches share enough rows for some pairs to pass
