"""Everything that speaks GWS: REST client, operations, CometD sessions, the session pool."""
