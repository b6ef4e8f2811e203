"""Polling and streaming sources, event time, windows and the pane writer."""
