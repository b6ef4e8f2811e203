"""A digest of a text: what a stage worked something out from, ahead of the
stage that takes it (``schema.WORKED_AHEAD``), to tell there whether the text
is still the same. Nothing imported beyond the standard library: a launcher
reads this before Beam."""

import hashlib


def text_digest(text: str) -> str:
  return hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()
