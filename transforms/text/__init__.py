"""A page's text and metadata, and the time budget extraction runs under. No Beam inside."""
