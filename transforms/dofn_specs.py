"""Beam's look-up of a DoFn's state and timer specs, answered once per kind
of DoFn instead of at every check.

Beam (2.78) asks ``userstate.get_dofn_specs`` whether a DoFn uses state or
timers about ten times per step: twice as the ParDo is built, three times
as it is translated, twice in the direct runner's visits, and twice more
each time a worker builds a bundle processor. Each answer wraps every
method of the DoFn (about 80 names with DoFn's own) and reads its
signature: on newsbeam's graph of about 90 steps, 29,000 signatures and
about 0.7 s of a run's 2.6 s start-up, paid again in every worker.

The answer is the state and timer parameters declared in the defaults of
the DoFn's methods, so it depends on its class and on methods an instance
sets on itself (a ``beam.Map``'s function is its ``process``), nothing else.
``specs_key`` names those; a DoFn whose attribute look-up is its own
(Beam's wrappers that hand attributes on to the DoFn they wrap) has no key
and is inspected every time, as before. No Beam issue tracks this; remove
the memo when Beam caches the answer itself.

Installed in a process by importing this module: the entry points import
it before they build a graph, and name it in `--beam_plugins`, which a
worker in its own process (multi_processing, Dataflow) imports as it
starts.
"""

import types
from typing import Any, Dict, Hashable, Optional, Set, Tuple

from apache_beam.transforms import userstate

Specs = Tuple[Set[Any], Set[Any]]

_CUSTOM_LOOKUP = ('__getattribute__', '__getattr__', '__dir__')
_METHODS = (types.FunctionType, types.MethodType)
# One entry per DoFn class and methods set on instances: a few hundred at most.
_LIMIT = 10000


def specs_key(dofn: Any) -> Optional[Hashable]:
  """What `dofn`'s specs depend on: its class, and each method it sets on
  itself (a bound method by its function; anything else Beam skips, by
  name only). None if its attributes are not plain look-ups."""
  cls = type(dofn)
  if any(name in vars(klass) for klass in cls.__mro__[:-1] for name in _CUSTOM_LOOKUP):
    return None
  try:
    attributes = vars(dofn)
  except TypeError:  # no __dict__
    return None
  own = []
  for name, value in attributes.items():
    if isinstance(value, types.MethodType):
      own.append((name, value.__func__))
    elif isinstance(getattr(cls, name, None), _METHODS):
      own.append((name, None))  # hides the class's method: Beam skips it
  return (cls, tuple(sorted(own, key=lambda pair: pair[0])))


def memoized(get_specs):
  """`get_specs` (Beam's ``get_dofn_specs``) answered once per
  ``specs_key``; each caller gets its own sets."""
  answers: Dict[Hashable, Specs] = {}

  def get_dofn_specs(dofn):
    key = specs_key(dofn)
    if key is None:
      return get_specs(dofn)
    specs = answers.get(key)
    if specs is None:
      if len(answers) >= _LIMIT:
        answers.clear()
      specs = answers[key] = get_specs(dofn)
    return set(specs[0]), set(specs[1])

  get_dofn_specs.memoizes = get_specs
  return get_dofn_specs


def memoize_dofn_specs() -> None:
  """Installs the memo in this process, once (``is_stateful_dofn`` and
  ``validate_stateful_dofn`` call ``get_dofn_specs`` through the module)."""
  current = getattr(userstate, 'get_dofn_specs', None)
  if current is not None and not hasattr(current, 'memoizes'):
    userstate.get_dofn_specs = memoized(current)


memoize_dofn_specs()
