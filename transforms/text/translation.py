"""Tables for ``str.translate`` that classify each character once: filled as
characters come (a text's characters are few of Unicode's), kept for at most
LIMIT characters, past which a character is classified each time it comes
(the same result, slower): a text of every code point cannot grow the table
past that."""

from typing import Callable, Optional, Union

Translation = Union[str, int, None]


class CharacterTable(dict):
  """``str.translate``'s table: a character's ordinal -> `classify` of it
  (a string, an ordinal, or None to drop it)."""

  LIMIT = 1 << 16

  def __init__(self, classify: Callable[[int], Translation]):
    super().__init__()
    self._classify = classify

  def __missing__(self, ordinal: int) -> Optional[Translation]:
    value = self._classify(ordinal)
    if len(self) < self.LIMIT:
      self[ordinal] = value
    return value
