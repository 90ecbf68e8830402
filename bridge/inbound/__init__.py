"""Inbound HTTP: request verification and dialects (json, cti, slack, mobile) into Commands."""
