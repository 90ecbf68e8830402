"""Process entry points: each module is one ``gws-bridge`` subcommand that wires stages together.

A subcommand module exposes ``DESCRIPTION``, ``add_arguments(parser)`` and ``run(args)``
(:mod:`bridge.cli` imports only the chosen one). Pipeline stages never import from here.
"""
