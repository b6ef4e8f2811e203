"""newsbeam's configuration files (package data, read by transforms.config)."""
