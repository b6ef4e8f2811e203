"""The charset a fetched document is decoded with."""

import codecs
import re
from typing import Optional, Union

# How far into a document to look for an XML declaration or meta charset.
_SNIFF_BYTES = 4096
_XML_DECLARATION = re.compile(rb'^\s*<\?xml[^>]*encoding\s*=\s*["\']([A-Za-z0-9._:-]+)["\']')
_META_CHARSET = re.compile(rb'<meta[^>]+charset\s*=\s*["\']?\s*([A-Za-z0-9._:-]+)', re.I)
_BOMS = (
  (codecs.BOM_UTF8, 'utf-8'),
  (codecs.BOM_UTF32_LE, 'utf-32'),
  (codecs.BOM_UTF32_BE, 'utf-32'),
  (codecs.BOM_UTF16_LE, 'utf-16'),
  (codecs.BOM_UTF16_BE, 'utf-16'),
)


def _known_charset(label: Union[bytes, str, None]) -> Optional[str]:
  if not label:
    return None
  if isinstance(label, bytes):
    label = label.decode('ascii', 'ignore')
  try:
    return codecs.lookup(label.strip()).name
  except LookupError:
    return None


def _decodes(body: bytes, charset: str) -> bool:
  try:
    body.decode(charset)
  except (UnicodeDecodeError, LookupError):
    return False
  return True


def detect_charset(body: bytes, content_type: Optional[str]) -> str:
  """The charset to decode a document with.

  Precedence: a byte-order mark; then UTF-8 when the body holds non-ASCII
  bytes that are valid UTF-8 (by chance, single-byte text almost never is,
  and a header saying ISO-8859-1 over UTF-8 text is the usual mislabel);
  then the first label, of the HTTP header, the XML declaration and the
  meta tag, under which the body decodes; then windows-1252, which decodes
  anything (and is what browsers read ISO-8859-1 labels as).
  """
  for bom, charset in _BOMS:
    if body.startswith(bom):
      return charset
  if not body.isascii() and _decodes(body, 'utf-8'):
    return 'utf-8'
  head = body[:_SNIFF_BYTES]
  header_charset = None
  if content_type:
    match = re.search(r'charset\s*=\s*["\']?([^"\';\s]+)', content_type, re.I)
    header_charset = match and match.group(1)
  xml = _XML_DECLARATION.search(head)
  meta = _META_CHARSET.search(head)
  for label in (header_charset, xml and xml.group(1), meta and meta.group(1)):
    charset = _known_charset(label)
    if charset and _decodes(body, charset):
      return charset
  return 'cp1252'
