"""gws-bridge: Genesys Web Services (GWS 8.5) to webhooks, Slack and mobile push, and back."""

__version__ = "0.1.0"
