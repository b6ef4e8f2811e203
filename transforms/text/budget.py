"""A time budget for one call: run it in a child process, kill it on overrun.

Why a process: trafilatura and lxml run in C for much of a page, and a Beam
DoFn may run in any thread of a worker, so neither a thread (it cannot be
stopped) nor ``signal.alarm`` (main thread only, and not delivered while C
code runs) can stop a pathological page. A child process can always be
killed. One child serves one DoFn instance for many calls, so the cost is one
process start, plus pickling each page across a pipe.

The child is started by ``forkserver`` where the platform has it (never plain
``fork``: the worker holds gRPC threads, and forking a threaded process can
deadlock), else ``spawn``.
"""

import multiprocessing
from typing import Any, Callable, Optional, Tuple


class BudgetExceeded(Exception):
  """The call did not finish within its time budget (the child was killed)."""


def _start_method() -> str:
  methods = multiprocessing.get_all_start_methods()
  return 'forkserver' if 'forkserver' in methods else 'spawn'


def _serve(conn, function: Callable[..., Any], warm_up: Tuple) -> None:
  """The child's loop: call `function` once on `warm_up` (imports, caches)
  and say so, then on each request until the pipe closes; answer (True,
  result) or (False, exception)."""
  if warm_up is not None:
    try:
      function(*warm_up)
    except Exception:  # the real calls will report it
      pass
  conn.send('ready')
  while True:
    try:
      args = conn.recv()
    except (EOFError, OSError):
      return
    try:
      answer = (True, function(*args))
    except Exception as e:  # returned to the caller, who decides
      answer = (False, e)
    try:
      conn.send(answer)
    except Exception as e:  # e.g. an exception that cannot be pickled
      conn.send((False, RuntimeError('%s: %s' % (type(e).__name__, e))))


class TimeBudget:
  """Calls `function(*args)` in a child process, at most `seconds` each.

  On overrun the child is killed and BudgetExceeded raised; the next call
  starts a fresh child. Exceptions raised by `function` are re-raised here.
  `function` must be picklable (a module-level function). A new child first
  calls it on `warm_up` (if given) outside the budget, so that imports and
  first-call set-up are not charged to the first real call.
  """

  # How long a new child may take to start and warm up.
  START_SECONDS = 120

  def __init__(self, seconds: float, function: Callable[..., Any], warm_up: Optional[Tuple] = None):
    self._seconds = seconds
    self._function = function
    self._warm_up = warm_up
    self._context = multiprocessing.get_context(_start_method())
    if self._context.get_start_method() == 'forkserver':
      # The fork server imports the function's module once; every child is
      # forked from it and shares those pages instead of importing again.
      # (Ignored if the process's fork server is already running.)
      self._context.set_forkserver_preload([function.__module__])
    self._process: Optional[multiprocessing.Process] = None
    self._conn = None

  def _start(self) -> None:
    parent, child = self._context.Pipe()
    self._process = self._context.Process(
      target=_serve,
      args=(child, self._function, self._warm_up),
      daemon=True,
      name='newsbeam-time-budget',
    )
    self._process.start()
    child.close()
    self._conn = parent
    if not (parent.poll(self.START_SECONDS) and parent.recv() == 'ready'):
      self.close()
      raise RuntimeError('the time-budget process did not start')

  def close(self) -> None:
    """Stops the child (if any); the next call starts another."""
    if self._conn is not None:
      self._conn.close()
      self._conn = None
    if self._process is not None:
      if self._process.is_alive():
        self._process.kill()
      self._process.join()
      self._process = None

  def __call__(self, *args: Any) -> Any:
    try:
      if self._process is None or not self._process.is_alive():
        self.close()
        self._start()
      self._conn.send(args)
      finished = self._conn.poll(self._seconds)
      if finished:
        ok, value = self._conn.recv()
    except (EOFError, OSError) as e:
      self.close()
      raise RuntimeError('the time-budget process died: %s' % e) from e
    if not finished:
      self.close()
      raise BudgetExceeded('over the %g second budget' % self._seconds)
    if not ok:
      raise value
    return value
