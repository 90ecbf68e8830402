"""``gws-bridge hash-key``: the ``sha256:`` form of an API key, for ``api_key_hashes`` in the config.

The key is read from stdin (first line, surrounding whitespace removed), so it never appears in
the shell history or the process list: ``gws-bridge hash-key < key.txt`` or type it and press
Enter (not echoed on a terminal).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from bridge.config.inbound import hash_api_key
from bridge.errors import ConfigError

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options: the key comes from stdin."""


def run(args: argparse.Namespace) -> int:
    """Print the hash of the key on stdin; a usage error when stdin holds no key."""
    line = getpass.getpass("API key: ") if sys.stdin.isatty() else sys.stdin.readline()
    key = line.strip()
    if not key:
        raise ConfigError("no API key on stdin")
    print(hash_api_key(key))
    return 0
