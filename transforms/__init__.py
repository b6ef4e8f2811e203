"""newsbeam's stages: one module per stage, each a composite PTransform
around plain per-record functions."""
