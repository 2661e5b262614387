"""Pages kept per process (decision 0043): a page that is a function of a key its view can
work out cheaply is rendered once per process and kept, at most `size` of them, the least
recently served dropped first. What differs per response — the CSRF token, a typed value —
is rendered as a slot (a random marker no visitor can guess) and put in per response by
`respond`. Only a page rendered for a request whose other per-request parts (the user, the
messages) are part of its key, or absent, may be kept: the view decides that."""

import secrets
import threading
from collections import OrderedDict

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.template.loader import render_to_string

from esure.csrf import get_token


def slot(name: str) -> str:
    """A marker for a per-response value in a kept page: `name` and 32 random hex digits."""
    return f"{name}{secrets.token_hex(16)}"


# How many pages each of the contractor's lists keeps per process (decision 0058): a member's
# page with rows and without, for 128 members at once; ~5-10 kB each.
LIST_PAGES_KEPT = 256

# How many rows' markup each of those lists keeps per process under the values each shows
# (decision 0059): 2,048 of ~0.5 kB, about 100 members' first pages.
LIST_ROWS_KEPT = 2048

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
        page = _rendered(request, template_name, context())
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)
        return page


def _rendered(request, template_name, context) -> str:
    """`template_name` rendered for `request` with `context` and the CSRF slot."""
    return render_to_string(template_name, {**context, "csrf_token": CSRF_SLOT}, request)


def respond(request, page: str, values=None) -> HttpResponse:
    """A kept page as this request's response: each slot of `values` replaced by its value
    (escaped by the caller), then the CSRF slot by the request's own masked token."""
    for marker, value in (values or {}).items():
        page = page.replace(marker, value)
    return HttpResponse(page.replace(CSRF_SLOT, get_token(request)))


def member_frame(request):
    """What base.html's header shows a company member (decision 0058), as part of a kept
    page's key: the user, the address and the staff link, the company and its name, the
    operator's name in the footer. A member holds no office or bank account (the header's
    other parts, accounts.context_processors.membership)."""
    user, company = request.user, request.membership.company
    return (
        user.pk,
        user.email,
        user.is_staff,
        company.pk,
        company.name,
        settings.ESURE_SURETY_NAME,
    )


def page(request, pages, key, template_name, context, values):
    """`template_name` as this request's response: rendered with `context`, whose per-response
    parts are slots, and kept in `pages` under `key`; then each slot of `values` filled (see
    respond). A page with a message to show is the request's own: rendered afresh, its slots
    filled the same way."""
    if len(messages.get_messages(request)):
        html = _rendered(request, template_name, context)
    else:
        html = pages.render(key, request, template_name, lambda: context)
    return respond(request, html, values)
