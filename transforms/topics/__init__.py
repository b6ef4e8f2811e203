"""IPTC Media Topic classification: the model and the stage."""
