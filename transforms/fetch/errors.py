"""The error every fetch failure raises, its reason first."""


class FetchError(Exception):
  """A fetch that failed; ``reason`` is a short machine-readable word."""

  def __init__(self, reason: str, detail: str, attempts: int = 1):
    super().__init__('%s: %s' % (reason, detail))
    self.reason = reason
    self.attempts = attempts
