"""Django's messages, built only for a request that uses them (config.messages)."""

from django.contrib import messages
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.functional import empty

from config.messages import LazyMessageMiddleware


def _through_middleware(view, cookies: dict | None = None):
    request = RequestFactory().get("/")
    request.COOKIES.update(cookies or {})
    request.session = {}  # what SessionMiddleware gives it; the fallback storage needs one
    response = LazyMessageMiddleware(lambda req: view(req))(request)
    return request, response


def test_a_request_that_uses_no_message_builds_no_storage_and_sets_no_cookie():
    # when
    request, response = _through_middleware(lambda request: HttpResponse("ok"))
    # then
    assert request._messages._wrapped is empty
    assert "messages" not in response.cookies


def test_a_message_added_reaches_the_next_request():
    # given
    def add(request):
        messages.success(request, "Order 7 force-rejected")
        return HttpResponse("ok")

    _, first = _through_middleware(add)
    # when
    shown = []

    def show(request):
        shown.extend(str(message) for message in messages.get_messages(request))
        return HttpResponse("ok")

    _through_middleware(show, cookies={"messages": first.cookies["messages"].value})
    # then
    assert shown == ["Order 7 force-rejected"]
