"""The JSON replies every simulator handler (REST and ``/sim``) sends."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from simulator.envelopes import OperationError

__all__ = ["error_response", "json_response"]


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def error_response(error: OperationError) -> web.Response:
    """``{"statusCode", "statusMessage"}`` with the error's HTTP status."""
    return json_response({"statusCode": error.status_code, "statusMessage": error.message}, error.http_status)
