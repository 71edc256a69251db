"""Django's messages, with their storage built only for a request that uses it.

`MessageMiddleware` builds a cookie and session storage for every request (5-6% of a web
process's CPU on a checkout, ADR 0008), though only the admin and the control room add or
show messages. Here the storage is built on first use: adding a message, or a template
that lists them; the response is updated only if it was.
"""

from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.utils.functional import SimpleLazyObject, empty


class LazyMessageMiddleware(MessageMiddleware):
    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        messages = getattr(request, "_messages", None)
        if type(messages) is SimpleLazyObject and messages._wrapped is empty:  # type(): no evaluation
            return response  # never used: nothing to store
        return super().process_response(request, response)
