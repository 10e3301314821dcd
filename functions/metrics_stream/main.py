"""Metrics stream: the live dashboard's Server-Sent Events at GET /api/v1/dashboard/stream (card 145).

Async (functions-framework's ASGI mode, served by uvicorn), so that an open stream holds a socket, not a worker;
its own function, so that the synchronous metrics API's workers never wait on one.
"""

import functions_framework.aio

from functions.metrics_stream.handling import answer_stream
from shared.config import get_settings
from shared.logging import configure_logging

settings = get_settings()
configure_logging(settings.log_level, settings.secret_values)


@functions_framework.aio.http
async def metrics_stream(request):
    return await answer_stream(request)
