"""newsbeam's configuration files (package data): read by configs.loading,
checked against the typed models of configs.schema."""
