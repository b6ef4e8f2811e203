"""Reading inputs (feeds, scraped files) and writing outputs (part files, summary, report, day partitions)."""
