"""The operator console: an admin HTTP API under ``/v1/admin/`` and the static pages that use it.

``gws-bridge console`` (:mod:`bridge.processes.console`) serves it. It only reads what the other
processes keep in Redis (attempts, agent status, leases, state, dead letters, commands) and acts
through the same code as the CLIs (:class:`bridge.delivery.admin.DeliveryAdmin`). docs/console.md.
"""
