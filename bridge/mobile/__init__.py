"""Mobile push: the device registry (Redis) and the GWS topic filters.

The APNs and FCM connectors that use it live in ``connectors/push/``, its HTTP routes in
``bridge/inbound/mobile.py``.
"""

from __future__ import annotations

from bridge.mobile.registry import Device, DeviceRegistry, Platform, token_fingerprint
from bridge.mobile.topics import filter_matches, topic_for, validate_filter

__all__ = [
    "Device",
    "DeviceRegistry",
    "Platform",
    "filter_matches",
    "token_fingerprint",
    "topic_for",
    "validate_filter",
]
