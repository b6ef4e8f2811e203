"""Timestamps as records hold them: ISO 8601, UTC, to the second."""

import calendar
import datetime
import time
from typing import Any, Optional


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
