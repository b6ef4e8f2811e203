"""newsbeam's entry points: one module per command."""
