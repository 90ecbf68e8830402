"""Mobile push connectors: APNs (kind ``apns``) and FCM (kind ``fcm``).

Both send the GWS push format (:mod:`connectors.push.payload`) to the devices
in the :class:`~bridge.mobile.registry.DeviceRegistry` whose filter matches,
prune tokens the service rejects for good (:mod:`connectors.push.fanout`) and
cache their credentials (:mod:`connectors.push.tokens`). Importing
``connectors.push.apns`` / ``connectors.push.fcm`` registers the kind.
"""

from __future__ import annotations
