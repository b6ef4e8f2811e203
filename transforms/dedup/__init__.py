"""Exact and near-duplicate detection: MinHash and rules, the published-records index, days, streams."""
