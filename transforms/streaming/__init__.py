"""Streaming: polls, sightings, event time, windowed output, latency.

Two ways to run the same stages (``transforms.pipeline.ArticleRecords``):

* the streaming graph (Dataflow, ``--streaming``): feeds polled by a
  ``PeriodicImpulse`` with conditional GET kept in Beam state per feed URL,
  a Pub/Sub subscription of scraped page records or feed URLs, new files
  under a watched prefix (``fileio.MatchContinuously``) (``sources.py``);
  dedup with state and timers (``transforms/dedup/streams.py``); fixed
  event-time windows written one file per window, pane and shard
  (``windows.py``);
* polls (the DirectRunner): each poll is one bounded pipeline over the
  feeds and the new watched files, with conditional GET through a fetch
  state file (``state.py``) and dedup against the published-records index
  that all polls share (``transforms/dedup/index.py``); each poll writes its
  own partition, ``<output>/<articles|duplicates|...>/poll=YYYYMMDDTHHMMSSZ/``
  (``polls.py``).

Either way each record remembers when an item (a URL) was first seen
(``first_seen_at``), and the time from then to the record being written is
the latency reported (``clock.py``).
"""
