"""The profile tool groups py-spy's samples by stage, and sets apart those of
a thread blocked on a lock, a selector or a pipe: they are not the CPU of
the code that waits."""

import importlib.util
import os

_PATH = os.path.join(os.path.dirname(__file__), '..', '..', 'benchmarks', 'profile_shares.py')
_SPEC = importlib.util.spec_from_file_location('profile_shares', _PATH)
profile_shares = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(profile_shares)

MAIN = 'process 1:"python -m pipelines.ingest"'
CHILD = 'process 2:"python -m pipelines.ingest";process 3:"forkserver"'
BUDGET = (
  'TimeBudget._call (transforms/text/budget.py:300);_Child.call (transforms/text/budget.py:200)'
)

SAMPLES = {
  # The main process waiting for a child's answer, in a selector and on a
  # condition variable; then sending it a page, which is CPU.
  MAIN + ';' + BUDGET + ';Connection._poll (multiprocessing/connection.py:440)'
  ';wait (multiprocessing/connection.py:1136);_PollLikeSelector.select (selectors.py:415)': 7,
  MAIN + ';' + BUDGET + ';TimeBudget._take (transforms/text/budget.py:150)'
  ';Condition.wait (threading.py:327)': 5,
  MAIN + ';' + BUDGET + ';_ConnectionBase.send (multiprocessing/connection.py:206)'
  ';Connection._send (multiprocessing/connection.py:373)': 3,
  # A child reading its next page, then extracting one.
  CHILD
  + ';serve (transforms/text/budget.py:90);_ConnectionBase.recv (multiprocessing/connection.py:250)'
  ';Connection._recv (multiprocessing/connection.py:395)': 2,
  CHILD + ';serve (transforms/text/budget.py:90);extract (trafilatura/core.py:300)': 11,
}


def test_waiting_threads_are_set_apart_from_the_code_that_waits(tmp_path):
  path = tmp_path / 'profile.txt'
  path.write_text(''.join('%s %d\n' % (stack, n) for stack, n in SAMPLES.items()))
  found = profile_shares.shares(str(path))
  waiting = next(name for name, _ in profile_shares.GROUPS if name.startswith('waiting'))
  pipe = next(name for name, _ in profile_shares.GROUPS if name.startswith('time-budget'))
  extraction = next(name for name, _ in profile_shares.GROUPS if name.startswith('trafilatura'))
  assert found['main process'] == {waiting: 12, pipe: 3}
  assert found['children'] == {waiting: 2, extraction: 11}
  assert found['all'][waiting] == 14
