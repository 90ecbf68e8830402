"""Shared fixtures. Each area's fixtures live in tests/plugins/ and are loaded here."""

pytest_plugins = [
    "tests.plugins.redis_server",
    "tests.plugins.sentinel",
    "tests.plugins.push",
    "tests.plugins.delivery",
    "tests.plugins.simulator",
    "tests.plugins.slack",
    "tests.plugins.e2e",
    "tests.plugins.tls",
    "tests.plugins.browser",
    "tests.plugins.tracing",
]
