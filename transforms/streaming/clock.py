"""Times of a stream: ISO strings and epochs, poll names, an item's event
time, latency figures."""

import calendar
import math
import time
from typing import Any, Dict, Iterable, Optional

_ISO = '%Y-%m-%dT%H:%M:%SZ'
_POLL_FORMAT = 'poll=%Y%m%dT%H%M%SZ'


def iso_of(epoch: float) -> str:
  return time.strftime(_ISO, time.gmtime(epoch))


def epoch_of(iso: Optional[str]) -> Optional[float]:
  """Seconds since the epoch of an ISO 8601 UTC time as records hold them
  (fractions of a second allowed), or of the start of a bare day
  (YYYY-MM-DD); None if absent or unreadable."""
  if not iso:
    return None
  if len(iso) == 10:
    iso += 'T00:00:00'
  text, _, fraction = iso.rstrip('Z').partition('.')
  try:
    whole = calendar.timegm(time.strptime(text, '%Y-%m-%dT%H:%M:%S'))
    return whole + (float('0.' + fraction) if fraction else 0.0)
  except ValueError:
    return None


def poll_partition(epoch: float) -> str:
  """The folder name of a poll's outputs, sortable by time."""
  return time.strftime(_POLL_FORMAT, time.gmtime(epoch))


def poll_time(partition: str) -> Optional[float]:
  """When a poll started, from its name; None if not a poll's name."""
  try:
    return calendar.timegm(time.strptime(partition, _POLL_FORMAT))
  except ValueError:
    return None


def event_time(record: Dict[str, Any], arrived: float, lateness: float) -> float:
  """A record's event time: published_at, else its arrival.

  Clamped to [arrived - lateness, arrived]: a feed listing an old item for
  the first time (or a backfill) must not have it dropped as late data, and
  a date in the future must not hold a window open.
  """
  published = epoch_of(record.get('published_at'))
  if published is None:
    return arrived
  return min(arrived, max(published, arrived - lateness))


def latency_figures(seconds: Iterable[float]) -> Dict[str, Any]:
  """count, p50, p90 and max of latencies in seconds (nearest rank)."""
  ordered = sorted(seconds)
  if not ordered:
    return {'count': 0, 'p50': None, 'p90': None, 'max': None}

  def rank(q):
    return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)], 3)

  return {'count': len(ordered), 'p50': rank(0.5), 'p90': rank(0.9), 'max': round(ordered[-1], 3)}
