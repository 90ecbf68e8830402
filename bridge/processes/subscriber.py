"""``gws-bridge subscriber``: hold the agents' GWS sessions and hand their events on.

Agents come from the configuration (``--config FILE`` and ``GWSB_`` variables)
or, for quick trials, from the command line (``--gws-url URL --agent
user:password``, repeatable; note that command lines are visible to other
local users). Several subscribers may run against the same Redis: they share
the agents through leases. ``--print-events`` writes the events as JSON lines
on stdout instead of enqueuing them for delivery. Logs go to stderr.
SIGTERM or SIGINT stops cleanly: sessions close and leases are released.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis

from bridge.config import Settings, load_settings
from bridge.config.subscriber import SubscriberSettings
from bridge.errors import ConfigError
from bridge.events import EventSink
from bridge.gws.notes import AgentNotes
from bridge.gws.pool import SessionPool
from bridge.gws.rest import GwsRestClient
from bridge.gws.sinks import GroupCommitSink, PrintEventSink
from bridge.gws.state_store import RedisStateStore
from bridge.gws.statistics import StatisticsPoller
from bridge.processes.subscriber_status import export_gauges, log_pool_status, publish_agent_status
from bridge.processes.tracing import start_tracing
from bridge.redis_client import async_redis

__all__ = ["add_arguments", "run"]


logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The subscriber's options."""
    parser.add_argument(
        "--config", metavar="FILE", help="TOML configuration file (agents, gws, redis_url, …)"
    )
    parser.add_argument(
        "--gws-url", metavar="URL", help="GWS base URL, without /api/v2 (overrides the config)"
    )
    parser.add_argument(
        "--agent", metavar="USER:PASSWORD", action="append", default=[],
        help="an agent to hold (repeatable; replaces the configured agents). For quick trials only.",
    )  # fmt: skip
    parser.add_argument(
        "--print-events", action="store_true",
        help="write normalized events as JSON lines on stdout instead of enqueuing them",
    )  # fmt: skip
    parser.add_argument(
        "--redis-url", metavar="URL",
        help="Redis for leases and agent state (overrides redis_url; an error with [redis_sentinel])",
    )  # fmt: skip
    # Each of these overrides the [subscriber] option of the same name (defaults there).
    parser.add_argument(
        "--capacity", type=int, metavar="N", help="most agents this process holds (default: all)"
    )
    parser.add_argument(
        "--lease-ttl", type=float, metavar="SECONDS",
        help="seconds after which a dead subscriber's agents are taken over (default 15)",
    )  # fmt: skip
    parser.add_argument(
        "--channel", action="append", dest="channels", metavar="MEDIA",
        help="log agents in on this media with StartContactCenterSession (repeatable; default: don't)",
    )  # fmt: skip
    parser.add_argument(
        "--status-interval", type=float, metavar="SECONDS",
        help="log a one-line pool status this often (default 60; 0 = never)",
    )  # fmt: skip
    parser.add_argument(
        "--batch-max-events", type=int, metavar="N",
        help="most events handed to the delivery queue in one enqueue (default 500; 1 = no grouping)",
    )  # fmt: skip
    parser.add_argument(
        "--batch-max-delay", type=float, metavar="SECONDS",
        help="longest a message's events wait for others to share an enqueue with (default 0.010)",
    )  # fmt: skip
    parser.add_argument(
        "--max-concurrent-starts", type=int, metavar="N",
        help="sessions logging in and handshaking at the same time (default 32)",
    )  # fmt: skip
    parser.add_argument(
        "--login-rate", type=float, metavar="PER_SECOND",
        help="log-ins per second to GWS at most, on average (default 50; 0 = unpaced)",
    )  # fmt: skip
    parser.add_argument(
        "--login-burst", type=int, metavar="N", help="log-ins at once after a quiet spell (default 10)"
    )
    parser.add_argument(
        "--metrics-port", type=int, metavar="PORT",
        help="serve Prometheus metrics (events routed, agents held and connected) on this port",
    )  # fmt: skip
    parser.add_argument("--metrics-host", help="metrics bind address (default 127.0.0.1)")


def parse_agent(value: str) -> dict[str, str]:
    """``user:password`` → ``{"username", "password"}``; raises ``ConfigError`` without the colon."""
    username, sep, password = value.partition(":")
    if not sep or not username:
        raise ConfigError("--agent expects USER:PASSWORD")
    return {"username": username, "password": password}


def build_settings(args: argparse.Namespace) -> Settings:
    """Settings from ``--config`` and the environment, with the command-line overrides applied."""
    overrides: dict[str, Any] = {}
    if args.gws_url:
        overrides["gws"] = {"base_url": args.gws_url}
    if args.agent:
        overrides["agents"] = [parse_agent(value) for value in args.agent]
    if args.redis_url:
        overrides["redis_url"] = args.redis_url
    settings = load_settings(args.config, **overrides)
    if args.redis_url and settings.redis_sentinel is not None:
        # Sentinel wins over redis_url everywhere; a flag that silently did nothing would leave
        # an operator believing this subscriber talks to the Redis they named.
        raise ConfigError(
            "--redis-url cannot be used with [redis_sentinel]: every client follows the sentinels "
            "and redis_url is ignored; remove the flag or the section"
        )
    flags = {name: getattr(args, name) for name in SubscriberSettings.model_fields}
    given = {name: value for name, value in flags.items() if value is not None}
    if not given:
        return settings
    try:
        subscriber = SubscriberSettings.model_validate({**settings.subscriber.model_dump(), **given})
    except ValidationError as exc:
        raise ConfigError(
            "; ".join(f"--{str(e['loc'][0]).replace('_', '-')}: {e['msg']}" for e in exc.errors())
        ) from exc
    return settings.model_copy(update={"subscriber": subscriber})


def build_sink(args: argparse.Namespace, settings: Settings) -> EventSink:
    """``PrintEventSink`` with ``--print-events``, else the delivery layer's Celery sink.

    The Celery sink is wrapped in a :class:`GroupCommitSink`: the events of the
    messages that all sessions receive within ``batch_max_delay`` (or while
    the previous enqueue runs) go to the delivery queue in one enqueue. Each
    message still counts as handled only once the enqueue holding its events
    has returned. ``batch_max_events = 1`` turns grouping off.
    """
    if args.print_events:
        return PrintEventSink()
    options = settings.subscriber
    try:
        from bridge.delivery.sink import CeleryEventSink  # imported only when enqueuing
    except ImportError as exc:
        raise ConfigError(
            "the delivery queue is not available in this installation; use --print-events"
        ) from exc
    sink: EventSink = CeleryEventSink.from_settings(settings)
    if options.batch_max_events > 1:
        sink = GroupCommitSink(
            sink,
            max_events=options.batch_max_events,
            max_delay=options.batch_max_delay,
            max_pending=max(10 * options.batch_max_events, 5000),
        )
    return sink


def state_store(settings: Settings, redis: Redis) -> RedisStateStore:
    """The sessions' state store; with ``[redis_sentinel]``, saves wait for its ``wait_replicas``."""
    conf = settings.redis_sentinel
    if conf is None or conf.wait_replicas == 0:
        return RedisStateStore(redis, prefix=settings.keys.state)
    return RedisStateStore(
        redis,
        prefix=settings.keys.state,
        wait_replicas=conf.wait_replicas,
        wait_timeout=conf.wait_timeout_ms / 1000,
    )


async def run(args: argparse.Namespace) -> int:
    """Run the session pool until SIGTERM/SIGINT (0); ``ConfigError`` before anything starts."""
    settings = build_settings(args)
    if not settings.agents:
        raise ConfigError("no agents configured: give --agent USER:PASSWORD or agents in --config")
    sink = build_sink(args, settings)
    options = settings.subscriber
    stop_tracing = start_tracing(settings.tracing, "subscriber")

    # aiocometd logs every open/subscribe/close at INFO: thousands of lines for a big pool.
    library_logger = logging.getLogger("aiocometd_noloop")
    library_logger.setLevel(max(logging.WARNING, logging.getLogger().getEffectiveLevel()))
    redis = async_redis(settings)
    pool = SessionPool(
        settings.agents,
        gws=settings.gws,
        sink=sink,
        redis=redis,
        state_store=state_store(settings, redis),
        lease_prefix=settings.keys.leases,
        capacity=options.capacity,
        lease_ttl=options.lease_ttl,
        source=settings.normalizer.source,
        include_raw=settings.normalizer.include_raw,
        channels=options.channels,
        max_concurrent_starts=options.max_concurrent_starts,
        login_rate=options.login_rate or None,
        login_burst=options.login_burst,
        notes=AgentNotes(redis, settings.keys.notes),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    reporter = exporter = heartbeat = publisher = None
    statistics = build_statistics_poller(settings, redis, sink, pool.owner)
    polling = asyncio.create_task(statistics.run()) if statistics is not None else None
    try:
        await pool.start()
        if options.metrics_port:
            from prometheus_client import start_http_server

            from bridge.processes.heartbeat import Heartbeat

            start_http_server(options.metrics_port, addr=options.metrics_host)
            exporter = asyncio.create_task(export_gauges(pool))
            heartbeat = asyncio.create_task(Heartbeat().run())
        if options.status_interval > 0:
            reporter = asyncio.create_task(log_pool_status(pool, options.status_interval))
        if settings.console.agent_status_interval > 0:
            publisher = asyncio.create_task(
                publish_agent_status(
                    pool, redis, settings.keys.console.agents, settings.console.agent_status_interval
                )
            )
        await stop.wait()
        logger.info("stopping subscriber")
    finally:
        for task in (reporter, exporter, heartbeat, publisher):
            if task is not None:
                task.cancel()
        if statistics is not None and polling is not None:
            statistics.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(polling, options.lease_ttl)
            await statistics.aclose()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await pool.stop()
        close = getattr(sink, "aclose", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()
        await redis.aclose()
        stop_tracing()
    return 0


def build_statistics_poller(
    settings: Settings, redis: Redis, sink: EventSink, owner: str
) -> StatisticsPoller | None:
    """The ``[[statistics]]`` poller (None when none is configured); it reads as each object's
    ``user`` (default the first agent), with a REST session of its own per user."""
    if not settings.statistics:
        return None
    passwords = {agent.username: agent.password.get_secret_value() for agent in settings.agents}
    default = settings.agents[0].username
    clients: dict[str, GwsRestClient] = {}

    def client_for(user: str | None) -> GwsRestClient:
        name = user or default
        if name not in clients:
            clients[name] = GwsRestClient.from_settings(settings.gws, name, passwords[name])
        return clients[name]

    return StatisticsPoller(
        settings.statistics,
        client_for,
        redis,
        settings.keys,
        sink,
        owner=owner,
        lease_ttl=settings.subscriber.lease_ttl,
        source=settings.normalizer.source,
        clients=clients,
    )
