"""A time budget for one call: run it in a child process, kill it on overrun.

Why a process: trafilatura and lxml run in C for much of a page, and a Beam
DoFn may run in any thread of a worker, so neither a thread (it cannot be
stopped) nor ``signal.alarm`` (main thread only, and not delivered while C
code runs) can stop a pathological page. A child process can always be
killed. A child serves many calls, so the cost is one process start, plus
pickling each page across a pipe.

The budget is the child's CPU time (read from /proc), not the wall clock:
whether a page fits it does not depend on how loaded the machine is, so the
same page is extracted, or timed out, on every run. A wall-clock backstop
(``BACKSTOP`` times the budget) stops a child that hangs without using CPU;
where there is no /proc, the wall clock is the budget.

A ``TimeBudget`` is a pool of at most `processes` children, started as
concurrent calls need them, that any number of threads may call at once: the
threads of a Beam worker share one pool (``TimeBudget.shared``), so a process
runs as many children as it is given, however many threads Beam runs.

Children are started by ``forkserver`` where the platform has it (never
plain ``fork``: the worker holds gRPC threads, and forking a threaded process
can deadlock), else ``spawn``. Either way multiprocessing makes a new child
import the parent's main module, in case a call needs something defined
there; the main module of ``python -m pipelines.ingest`` (or of a Beam
worker) imports Beam and every stage, seconds of CPU and hundreds of MB in
each child for nothing: the called function lives in a module of its own,
so a child is started with the main module hidden.
"""

import contextlib
import multiprocessing
import os
import sys
import threading
import time
import types
from collections import Counter
from typing import Any, Callable, Dict, List, Optional, Set, Tuple


class BudgetExceeded(Exception):
  """The call did not finish within its time budget (the child was killed)."""


def _start_method() -> str:
  methods = multiprocessing.get_all_start_methods()
  return 'forkserver' if 'forkserver' in methods else 'spawn'


_CLOCK_TICKS = os.sysconf('SC_CLK_TCK') if hasattr(os, 'sysconf') else 100


def _cpu_seconds(pid: int) -> Optional[float]:
  """CPU time (user + system) process `pid` has used; None without /proc."""
  try:
    with open('/proc/%d/stat' % pid) as f:
      fields = f.read().rsplit(')', 1)[1].split()
  except OSError:
    return None
  return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


# Serialises the moments a child starts, when the main module is hidden.
_STARTING = threading.Lock()


@contextlib.contextmanager
def _main_module_hidden():
  """While a child starts, ``__main__`` is a bare module: it has neither a
  spec nor a file, so the child imports no main module."""
  with _STARTING:
    main = sys.modules['__main__']
    sys.modules['__main__'] = types.ModuleType('__main__')
    try:
      yield
    finally:
      sys.modules['__main__'] = main


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


def start_fork_server(preload: Tuple[str, ...]) -> bool:
  """Starts this process's fork server now, importing `preload` (as a
  ``TimeBudget`` given the same modules would), so that it loads them
  while the process does other work; False where children are spawned."""
  if _start_method() != 'forkserver':
    return False
  from multiprocessing import forkserver

  multiprocessing.get_context('forkserver').set_forkserver_preload(list(preload))
  with _main_module_hidden():  # the server, too, imports no main module
    forkserver.ensure_running()
  return True


class _Child:
  """One child process serving calls of `function` over a pipe."""

  # How long a new child may take to start and warm up.
  START_SECONDS = 120

  def __init__(self, context, function: Callable[..., Any], warm_up: Optional[Tuple]):
    parent, child = context.Pipe()
    self._process = context.Process(
      target=_serve, args=(child, function, warm_up), daemon=True, name='newsbeam-time-budget'
    )
    with _main_module_hidden():
      self._process.start()
    child.close()
    self._conn = parent
    if not (parent.poll(self.START_SECONDS) and parent.recv() == 'ready'):
      self.close()
      raise RuntimeError('the time-budget process did not start')

  @property
  def pid(self) -> int:
    return self._process.pid

  def call(self, args: Tuple, seconds: float, backstop: float) -> Tuple[bool, Any]:
    """(True, result) or (False, the exception `function` raised); the
    child is closed and BudgetExceeded raised past `seconds` of its CPU time
    or `backstop` seconds of wall time, RuntimeError raised if it died."""
    try:
      self._conn.send(args)
      cpu_start = _cpu_seconds(self.pid)
      deadline = time.monotonic() + backstop
      while True:
        # A single-threaded child uses at most as much CPU as wall time
        # passes: waiting for what is left of its budget never overshoots.
        left = seconds
        used = _cpu_seconds(self.pid) if cpu_start is not None else None
        if used is not None:  # None: the child is gone, and the pipe says so
          left = seconds - (used - cpu_start)
        if left <= 0:
          over = 'over the %g second budget of CPU time' % seconds
          break
        wait = min(max(left, 0.01), deadline - time.monotonic())
        if wait <= 0:
          over = 'over the %g second backstop of wall time (no answer, a hang)' % backstop
          break
        if self._conn.poll(wait):
          return self._conn.recv()
        if cpu_start is None:  # no CPU clock: the budget is wall time
          over = 'over the %g second budget' % seconds
          break
    except (EOFError, OSError) as e:  # OSError: also close() from another thread
      self.close()
      raise RuntimeError('the time-budget process died: %s' % e) from e
    self.close()
    raise BudgetExceeded(over)

  def close(self) -> None:
    if self._process.is_alive():
      self._process.kill()
    self._process.join()
    self._conn.close()


def call(function: Callable[..., Any], *args: Any) -> Any:
  """`function(*args)`: the function of a pool that several stages share,
  each call naming its own (a module-level function, pickled by name)."""
  return function(*args)


class TimeBudget:
  """Calls `function(*args)` in a child process, with at most `seconds` of
  the child's CPU time each; thread-safe, with up to `processes` children
  serving concurrent calls.

  On overrun the child is killed and BudgetExceeded raised; a later call
  starts a fresh child. Exceptions raised by `function` are re-raised here.
  `function` must be picklable (a module-level function). A new child first
  calls it on `warm_up` (if given) outside the budget, so that imports and
  first-call set-up are not charged to the first real call. The fork server
  imports `function`'s module and the modules named in `preload`, once.
  """

  # The wall-clock backstop for a hang, as a multiple of the budget.
  BACKSTOP = 10
  # A set-up call's budget (``pinned(slot, seconds=...)``): as long as a
  # new child may take to start and warm up.
  SETUP_SECONDS = _Child.START_SECONDS

  _shared: Dict[Tuple, List[Any]] = {}
  _shared_lock = threading.Lock()

  def __init__(
    self,
    seconds: float,
    function: Callable[..., Any],
    warm_up: Optional[Tuple] = None,
    processes: int = 1,
    preload: Tuple[str, ...] = (),
  ):
    self._seconds = seconds
    self._function = function
    self._warm_up = warm_up
    self._processes = max(1, processes)
    self._context = multiprocessing.get_context(_start_method())
    if self._context.get_start_method() == 'forkserver':
      # The fork server imports the function's module once; every child is
      # forked from it and shares those pages instead of importing again.
      # (Ignored if the process's fork server is already running.)
      self._context.set_forkserver_preload([function.__module__, *preload])
    self._lock = threading.Condition()
    self._idle: List[_Child] = []
    self._children: Set[_Child] = set()
    self._starting = 0
    self._pinned: Dict[int, _Child] = {}
    self._pinning: Set[int] = set()  # slots whose child is being started
    self._waiting: Counter = Counter()  # pinned callers waiting, per slot
    self._key: Optional[Tuple] = None  # in the shared table

  @classmethod
  def shared(
    cls,
    seconds: float,
    function: Callable[..., Any],
    warm_up: Optional[Tuple] = None,
    processes: int = 1,
    preload: Tuple[str, ...] = (),
  ) -> 'TimeBudget':
    """This process's one TimeBudget for these arguments, for every thread
    that asks: each user calls ``release()`` when done, and the last one's
    release stops the children."""
    key = (seconds, function, warm_up, processes, preload)
    with cls._shared_lock:
      entry = cls._shared.setdefault(key, [None, 0])
      if entry[0] is None:
        entry[0] = cls(seconds, function, warm_up, processes, preload)
        entry[0]._key = key
      entry[1] += 1
      return entry[0]

  def release(self) -> None:
    """One user of a shared TimeBudget is done; the last one closes it."""
    with self._shared_lock:
      entry = self._shared.get(self._key)
      if entry is None or entry[0] is not self:
        return self.close()
      entry[1] -= 1
      if entry[1] > 0:
        return None
      del self._shared[self._key]
    self.close()

  def running(self) -> bool:
    """Whether any child has been started and is still up."""
    with self._lock:
      return bool(self._children)

  def _take(self, slot: Optional[int] = None) -> _Child:
    """An idle child, a new one if all are busy and the pool has room, or
    the first one to come back. With `slot`: the child pinned to it, once
    idle (an idle child, or a new one, is pinned to it first); while a
    pinned caller waits for its child, other callers leave that child be."""
    with self._lock:
      if slot is not None:
        self._waiting[slot] += 1
      try:
        child = self._idle_child(slot)
        while child is None and not self._may_start(slot):
          self._lock.wait()
          child = self._idle_child(slot)
        if child is not None:
          return child
        self._starting += 1
        if slot is not None:
          # The slot's child-to-be: its other callers wait for it, and no
          # other child is pinned to the slot meanwhile.
          self._pinning.add(slot)
      finally:
        if slot is not None:
          self._waiting[slot] -= 1
    child = None
    try:
      child = _Child(self._context, self._function, self._warm_up)
    finally:
      with self._lock:
        self._starting -= 1
        if slot is not None:
          self._pinning.discard(slot)
        if child is not None:
          self._children.add(child)
          if slot is not None:
            self._pinned[slot] = child
        self._lock.notify_all()
    return child

  def _may_start(self, slot: Optional[int]) -> bool:
    """(Lock held.) Whether a caller finding no idle child starts one: the
    pool has room, and the caller has no living child pinned to wait for."""
    return self._has_room() and (
      slot is None or (slot not in self._pinned and slot not in self._pinning)
    )

  def _has_room(self) -> bool:
    """(Lock held.) Whether the pool may start another child."""
    return len(self._children) + self._starting < self._processes

  def _idle_child(self, slot: Optional[int]) -> Optional[_Child]:
    """(Lock held.) The idle child a caller of `slot` takes, or None."""
    if slot is not None and slot in self._pinning:
      return None  # its child is starting
    pinned = self._pinned.get(slot) if slot is not None else None
    if pinned is not None and pinned not in self._children:  # it died
      del self._pinned[slot]
      pinned = None
    if pinned is not None:
      if pinned not in self._idle:
        return None
      self._idle.remove(pinned)
      return pinned
    awaited = {child for s, child in self._pinned.items() if self._waiting[s] and s != slot}
    idle = [child for child in reversed(self._idle) if child not in awaited]
    if slot is not None:
      # A slot pinned anew takes a child no other slot is pinned to (an idle
      # one, or a new one where the pool has room): two slots are two
      # children, where the pool has two.
      taken = set(self._pinned.values())
      free = [child for child in idle if child not in taken]
      if free:
        idle = free
      elif self._has_room():
        return None
    if not idle:
      return None
    child = idle[0]
    self._idle.remove(child)
    if slot is not None:
      self._pinned[slot] = child
    return child

  def _give_back(self, child: _Child, alive: bool) -> None:
    with self._lock:
      if child in self._children:
        if alive:
          # A pinned caller waiting with no child yet gets this one, before
          # other callers can take it.
          unpinned = [
            s
            for s, n in self._waiting.items()
            if n and s not in self._pinned and s not in self._pinning
          ]
          if unpinned and child not in self._pinned.values():
            self._pinned[unpinned[0]] = child
          self._idle.append(child)
        else:
          self._children.discard(child)
      # Every waiter: one waiting for its pinned child must not take the
      # wake-up another could use.
      self._lock.notify_all()

  def close(self) -> None:
    """Stops the children (a call still running on one fails); a later
    call starts another."""
    with self._lock:
      children = list(self._children)
      self._children.clear()
      self._idle.clear()
      self._pinned.clear()
      self._lock.notify_all()
    for child in children:
      child.close()

  def __call__(self, *args: Any) -> Any:
    return self._call(self._take(), args)

  def pinned(self, slot: int, seconds: Optional[float] = None) -> Callable[..., Any]:
    """A caller of the pool whose calls all go to one child (the one pinned
    to `slot`, while it lives), which other callers share when it is idle:
    work that loads state as it goes (lingua's models of the languages it
    meets) loads it once, not in every child. `seconds`: each call's budget
    instead of the pool's (a set-up call, such as loading a model, which a
    budget meant for one record must not cut short). A slot past the pool's
    size is its last one."""
    slot = min(slot, self._processes - 1)
    return lambda *args: self._call(self._take(slot), args, seconds)

  def _call(self, child: _Child, args: Tuple, seconds: Optional[float] = None) -> Any:
    seconds = seconds or self._seconds
    alive = False
    try:
      ok, value = child.call(args, seconds, self.BACKSTOP * seconds)
      alive = True
    finally:
      self._give_back(child, alive)
    if not ok:
      raise value
    return value
