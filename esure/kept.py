"""Pages kept per process (decision 0043): a page that is a function of a key its view can
work out cheaply is rendered once per process and kept, at most `size` of them, the least
recently served dropped first. What differs per response — the CSRF token, a typed value —
is rendered as a slot (a random marker no visitor can guess) and put in per response by
`respond`. Only a page rendered for a request whose other per-request parts (the user, the
messages) are part of its key, or absent, may be kept: the view decides that."""

import secrets
import threading
from collections import OrderedDict

from django.http import HttpResponse
from django.template.loader import render_to_string

from esure.csrf import get_token


def slot(name: str) -> str:
    """A marker for a per-response value in a kept page: `name` and 32 random hex digits."""
    return f"{name}{secrets.token_hex(16)}"


# Stands for the CSRF token in every kept page; each response carries its request's own token.
CSRF_SLOT = slot("csrf")


class KeptPages:
    """At most `size` rendered pages under their keys, the least recently served out first;
    safe to share between a process's threads."""

    def __init__(self, size: int):
        self.size = size
        self._pages = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self):
        return len(self._pages)

    def clear(self):
        with self._lock:
            self._pages.clear()

    def render(self, key, request, template_name, context) -> str:
        """The page kept under `key`; else `template_name` rendered for `request` with
        `context()` (called only then) and the CSRF slot, and kept."""
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
                return page
        page = render_to_string(template_name, {**context(), "csrf_token": CSRF_SLOT}, request)
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)
        return page


def respond(request, page: str, values=None) -> HttpResponse:
    """A kept page as this request's response: each slot of `values` replaced by its value
    (escaped by the caller), then the CSRF slot by the request's own masked token."""
    for marker, value in (values or {}).items():
        page = page.replace(marker, value)
    return HttpResponse(page.replace(CSRF_SLOT, get_token(request)))
