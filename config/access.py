"""One access line per request, with the request id, and the order when the view dealt with one."""

import logging
import time
import uuid

from config.door import request_waited
from config.logs import log_scope

log = logging.getLogger("config.access")

REQUEST_ID_HEADER = "X-Request-Id"
MAX_REQUEST_ID_LENGTH = 200


class AccessLogMiddleware:
    """Bind `requestId` (the client's X-Request-Id, or a new one) for the request, echo it, log the outcome.

    Services that create or load an order bind its id into the same context (config.logs);
    it is read back here once the view has answered. The context is reset afterwards, so a
    server thread's next request starts clean.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        request_id = (request.headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex)[:MAX_REQUEST_ID_LENGTH]
        started = time.perf_counter()
        with log_scope(requestId=request_id):
            response = self.get_response(request)
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            path = request.get_full_path()
            extra = {"method": request.method, "path": path, "status": response.status_code, "durationMs": duration_ms}
            waited = request_waited()
            if waited is not None:  # in gunicorn: how long it waited for a thread before this (config/door.py)
                extra["queuedMs"] = round(waited * 1000, 1)
            log.info(
                "%s %s %s %sms",  # the whole story for LOG_FORMAT=plain too
                request.method,
                path,
                response.status_code,
                duration_ms,
                extra=extra,
            )  # requestId, and orderId if a service bound one, come from the context
        response.setdefault(REQUEST_ID_HEADER, request_id)
        return response
