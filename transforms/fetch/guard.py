"""Refusing private networks: no fetch may reach an address inside the
network (loopback, private ranges, cloud metadata), whatever a URL's name
resolves to, before connecting (``check_host``) or when connected (DNS
rebinding: ``PublicOnlyAdapter``). --allow-private-hosts lifts it."""

import ipaddress
import socket
from typing import Optional
from urllib.parse import urlsplit

import requests
import urllib3

from transforms.fetch.errors import FetchError


def blocked_address_reason(address: str) -> Optional[str]:
  """Why an IP address must not be fetched (None when it is public)."""
  ip = ipaddress.ip_address(address.split('%')[0])
  if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
    ip = ip.ipv4_mapped
  for name in ('loopback', 'link_local', 'multicast', 'unspecified', 'reserved', 'private'):
    if getattr(ip, 'is_' + name):
      return name.replace('_', '-')
  if not ip.is_global:  # e.g. 100.64.0.0/10, shared carrier-grade NAT
    return 'not globally routable'
  return None


def _refuse_private(host: str, address: str) -> None:
  reason = blocked_address_reason(address)
  if reason:
    raise FetchError(
      'blocked_host',
      '%s resolves to %s (%s); --allow-private-hosts lifts this' % (host, address, reason),
    )


def check_host(url: str) -> None:
  """Raises FetchError('blocked_host') if the URL's host resolves to any
  non-public address. Resolving here and checking every address closes the
  door to names that point inside the network (and cloud metadata)."""
  parts = urlsplit(url)
  host = parts.hostname
  if not host:
    raise FetchError('bad_url', 'no host in %s' % url)
  try:
    port = parts.port or (443 if parts.scheme == 'https' else 80)
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
  except (OSError, ValueError) as e:
    raise FetchError('dns_error', '%s: %s' % (host, e)) from e
  for info in infos:
    _refuse_private(host, info[4][0])


class _PublicPeerMixin:
  """Checks the address a connection actually reached: a name may resolve
  to a public address when checked and a private one when connecting (DNS
  rebinding)."""

  def _new_conn(self):
    sock = super()._new_conn()
    try:
      _refuse_private(self.host, sock.getpeername()[0])
    except FetchError:
      sock.close()
      raise
    return sock


class _PublicHTTPConnection(_PublicPeerMixin, urllib3.connection.HTTPConnection):
  pass


class _PublicHTTPSConnection(_PublicPeerMixin, urllib3.connection.HTTPSConnection):
  pass


class _PublicHTTPPool(urllib3.HTTPConnectionPool):
  ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(urllib3.HTTPSConnectionPool):
  ConnectionCls = _PublicHTTPSConnection


class PublicOnlyAdapter(requests.adapters.HTTPAdapter):
  """A transport adapter whose connections refuse non-public peers."""

  def init_poolmanager(self, *args, **kwargs):
    super().init_poolmanager(*args, **kwargs)
    self.poolmanager.pool_classes_by_scheme = {'http': _PublicHTTPPool, 'https': _PublicHTTPSPool}
