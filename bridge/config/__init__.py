"""The configuration floor: every section model, secret references and Redis key names.

One :class:`Settings` object is read once by a process (:func:`load_settings`: a TOML file plus
``GWSB_`` environment variables) and passed down. Every other layer imports its section model
from here and nothing from here imports another layer, so configuration never points back up
the pipeline. Every option is documented in ``config/bridge.example.toml``.
"""

from bridge.config.settings import NormalizerSettings, Settings, format_validation_error, load_settings

__all__ = ["NormalizerSettings", "Settings", "format_validation_error", "load_settings"]
