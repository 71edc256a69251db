"""Request bodies past DATA_UPLOAD_MAX_MEMORY_SIZE: a 413 in the API's shape, before anything reads them."""

from django.conf import settings
from django.http import JsonResponse


class BodySizeLimitMiddleware:
    """A body whose Content-Length exceeds DATA_UPLOAD_MAX_MEMORY_SIZE is answered 413 `{"detail"}` at once.

    Django raises RequestDataTooBig only where something reads the body, and then as a 400 HTML
    page (the debug page with DEBUG on); a route that never reads it (the /wdm ones take their
    values from the path) would take 10 MB and answer 200. The declared length refuses them all
    alike, before a byte is read. A body without one reaches Django empty: WSGIRequest reads no
    further than Content-Length.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return JsonResponse({"detail": f"Request body too large: at most {limit} bytes."}, status=413)
        return self.get_response(request)
