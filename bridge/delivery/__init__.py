"""Delivery: Celery on Redis, retries, dead letters, ordering, rate limits, endpoint health."""
