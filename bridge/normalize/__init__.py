"""Pure functions turning GWS wire messages into events (built in the normalizer issue)."""
