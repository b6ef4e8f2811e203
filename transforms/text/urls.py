"""URLs: which inputs are web addresses, and the one form an article's URL
is compared and identified by."""

import re
from typing import Optional
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def is_url(spec: str) -> bool:
  return spec.lower().startswith(('http://', 'https://'))


TRACKING_PARAMS = re.compile(
  r'^(utm_[a-z_]*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|'
  r'yclid|igshid|_ga|_gl|ref_src|cmpid|ocid|smid|mkt_tok)$',
  re.I,
)


def canonicalize_url(url: Optional[str]) -> Optional[str]:
  """Scheme and host lower-cased, default port, fragment and tracking
  parameters dropped, remaining query parameters sorted."""
  if not url:
    return url
  try:
    parts = urlsplit(url.strip())
    scheme = (parts.scheme or 'http').lower()
    host = (parts.hostname or '').lower().rstrip('.')
    port = parts.port
  except ValueError:
    return url.strip()
  netloc = host
  if port and not ((scheme == 'http' and port == 80) or (scheme == 'https' and port == 443)):
    netloc = '%s:%d' % (host, port)
  query = sorted(
    (k, v)
    for k, v in parse_qsl(parts.query, keep_blank_values=True)
    if not TRACKING_PARAMS.match(k)
  )
  path = parts.path or '/'
  return urlunsplit((scheme, netloc, path, urlencode(query), ''))


def domain_of(url: Optional[str]) -> Optional[str]:
  try:
    host = (urlsplit(url or '').hostname or '').lower()
  except ValueError:
    return None
  return host[4:] if host.startswith('www.') else (host or None)
