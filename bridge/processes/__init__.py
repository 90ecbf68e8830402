"""Process entry points: each module is one ``gws-bridge`` subcommand that wires stages together.

A subcommand module exposes ``add_arguments(parser)`` and ``run(args)``; its name and one-line
description are in :data:`bridge.cli.COMMANDS`, which imports only the chosen one. A
configuration error is raised as ``ConfigError`` (the CLI prints it and exits 2). Pipeline
stages never import from here.
"""
