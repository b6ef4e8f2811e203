"""Keeping credentials out of what newsbeam writes and logs.

Feed URLs may carry credentials: userinfo (``https://user:pass@host/``) or a
token in the query (``?token=...``, ``&apikey=...``, ``&sig=...``). Anything
newsbeam puts in a dead letter, an error message or a log line goes through
``redact_url`` first, which works on a bare URL and on free text holding URLs
alike (an HTTP library's error message quotes the path and query).
"""

import logging
import re
from typing import Optional

REDACTED = 'REDACTED'

# Query parameters that carry a secret (lower case; matched case-insensitively).
SECRET_PARAMS = (
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'auth',
  'auth_token',
  'key',
  'api_key',
  'apikey',
  'api-key',
  'secret',
  'client_secret',
  'password',
  'passwd',
  'pwd',
  'sig',
  'signature',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
  'x-goog-signature',
  'x-goog-credential',
)

# scheme://userinfo@ : everything between '//' and the '@' before the host.
_USERINFO = re.compile(r'(?<=//)[^/\s@?#\'"<>]+@')
# ?name=value or &name=value (also ';' separators); the value ends at the
# next separator, space or quote.
_SECRET_PARAM = re.compile(
  r'([?&;](?:%s)=)[^&;#\s\'"<>]*' % '|'.join(re.escape(name) for name in SECRET_PARAMS), re.I
)


def redact_url(text):
  """`text` (a URL, or a message that quotes URLs) with credentials replaced
  by REDACTED. Anything that is not a string is returned as it is."""
  if not isinstance(text, str) or ('@' not in text and '=' not in text):
    return text
  text = _USERINFO.sub(REDACTED + '@', text)
  return _SECRET_PARAM.sub(r'\1' + REDACTED, text)


class RedactingFilter(logging.Filter):
  """A logging filter that redacts credentials from every message."""

  def filter(self, record: logging.LogRecord) -> bool:
    try:
      message = record.getMessage()
    except Exception:  # a malformed call: logging reports it, not us
      return True
    redacted = redact_url(message)
    if redacted != message:
      record.msg, record.args = redacted, None
    return True


def redact_logs(logger: Optional[logging.Logger] = None) -> None:
  """Adds a RedactingFilter to the handlers of `logger` (the root logger by
  default): filters on handlers see the records of every child logger."""
  logger = logger or logging.getLogger()
  for handler in logger.handlers:
    if not any(isinstance(f, RedactingFilter) for f in handler.filters):
      handler.addFilter(RedactingFilter())
