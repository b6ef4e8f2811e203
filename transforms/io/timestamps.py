"""Timestamps as records hold them: ISO 8601, UTC, to the second.

A publication date is held as precisely as its source gives it: a time of
day (`2022-04-05T07:00:00Z`, converted to UTC), or a bare day (`2022-04-05`)
where the source names only the day. Midnight is never made up for a bare
day: it would rank a story dated only by its day before every story
published at a known hour of that day.
"""

import calendar
import datetime
import re
import time
from typing import Any, Optional

# A date string that carries a time of day ('09:00', 'T0900').
_TIME_OF_DAY = re.compile(r'\d{1,2}:\d{2}|T\d{4}')
_BARE_DAY = re.compile(r'^\d{4}-\d{2}-\d{2}$')
# How a bare day sorts against times (``publication_rank``): after every
# time of its own day, before the next day.
_END_OF_DAY = 'T24:00:00Z'


def iso_utc(value: Any) -> Optional[str]:
  """An ISO 8601 UTC timestamp from a struct_time, datetime or string."""
  if value is None or value == '':
    return None
  if isinstance(value, time.struct_time):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(calendar.timegm(value)))
  if isinstance(value, datetime.datetime):
    if value.tzinfo is not None:
      value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value.strftime('%Y-%m-%dT%H:%M:%SZ')
  if isinstance(value, str):
    text = value.strip()
    try:
      parsed = datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))
    except ValueError:
      return None
    if parsed.tzinfo is None:
      parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return iso_utc(parsed)
  return None


def publication_time(value: Any, day_only: bool = False) -> Optional[str]:
  """A publication date as records hold it: ISO 8601 UTC with its time of
  day, or the bare day (YYYY-MM-DD) when `day_only` or when `value` is a
  string naming a day and no time. A time without a zone is taken as UTC."""
  if isinstance(value, str) and _BARE_DAY.match(value.strip()):
    day_only = True
  exact = iso_utc(value)
  if exact is None or not day_only:
    return exact
  if isinstance(value, str):  # the day as the source names it, not shifted to UTC
    return value.strip()[:10]
  return exact[:10]


def names_time_of_day(text: Optional[str]) -> bool:
  """Whether a date as written ('Tue, 05 Apr 2022 08:15 +0200') gives a
  time of day, not only a day."""
  return bool(text) and bool(_TIME_OF_DAY.search(text))


def is_bare_day(published_at: Optional[str]) -> bool:
  return bool(published_at) and bool(_BARE_DAY.match(published_at))


def publication_rank(published_at: Optional[str]) -> str:
  """A publication date as dedup compares them (earliest first): a known
  time before a bare day of the same day, any date before none."""
  if not published_at:
    return '9999'
  return published_at + _END_OF_DAY if is_bare_day(published_at) else published_at
