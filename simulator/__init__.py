"""A GWS 8.5 server for development, demos, tests and load: REST + CometD + scenario control."""
