"""HTTP: the client, its SSRF guard, robots.txt, politeness, fetch state and log redaction."""
