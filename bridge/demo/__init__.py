"""``gws-bridge demo``: the whole bridge against the simulator, a scripted day, a local CRM sink.

:mod:`~bridge.demo.command` is the subcommand; :mod:`~bridge.demo.stack` starts Redis and the
children, :mod:`~bridge.demo.day` plays the day, :mod:`~bridge.demo.sink` is the CRM webhook
that checks signatures, :mod:`~bridge.demo.terminal` prints what happens. Nothing in the
product imports this package.
"""
