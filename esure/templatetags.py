"""Template filters available in every template (TEMPLATES "builtins" in settings).

    {{ guarantee.expires_on|wareki }}  → 令和7年3月31日
    {{ guarantee.amount|yen }}         → 金12,345,000円 (as certificates print it)
    {{ limits.max_advance|yen:"plain" }} → 12,345,000円 (in sentences and tables)

None (or the empty string of a missing variable) renders as nothing; any other bad value
raises: a certificate must never print a silently wrong date or amount.

And `{% url %}`, Django's own tag with each URL worked out once per process (decision 0043):
the URLconf does not change while a process runs, so the same name and arguments give the
same path — the D-Sure viewer has eight a page, each a walk of the resolver.
"""

from functools import lru_cache

from django import template
from django.conf import settings
from django.template import defaulttags
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

from esure.wareki import format_yen, to_wareki
from esure.wareki import yen as plain_yen

register = template.Library()


@register.filter
def wareki(value):
    """A date in 和暦 via esure.wareki.to_wareki; empty for None."""
    if value is None or value == "":
        return ""
    return to_wareki(value)


@register.filter
def yen(value, style=""):
    """Whole yen as 金12,345,000円 via esure.wareki.format_yen, or with style "plain" as
    12,345,000円 via esure.wareki.yen; empty for None."""
    if value is None or value == "":
        return ""
    return plain_yen(value) if style == "plain" else format_yen(value)


# Paths kept per process: the site's fixed links and the viewer's per guarantee and version.
URL_CACHE_SIZE = 4096


@lru_cache(maxsize=URL_CACHE_SIZE)
def _reverse(view_name, args, current_app, urlconf, script_prefix):
    # urlconf and script_prefix are in the key: a test (or a request) that changes them gets
    # its own paths. NoReverseMatch is raised, never cached.
    return reverse(view_name, urlconf=urlconf, args=args, current_app=current_app)


class URLNode(defaulttags.URLNode):
    """Django's URLNode, with `reverse` memoised for str and int arguments (a model instance,
    a lazy string or keyword arguments go to `reverse` each time, as before)."""

    def render(self, context):
        view_name = self.view_name.resolve(context)
        args = tuple(arg.resolve(context) for arg in self.args)
        if self.kwargs or not all(isinstance(value, (str, int)) for value in (view_name, *args)):
            return super().render(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        urlconf = get_urlconf() or settings.ROOT_URLCONF
        url = ""
        try:
            url = _reverse(view_name, args, current_app, urlconf, get_script_prefix())
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    """Django's `{% url %}` (same syntax, same output), rendered by the URLNode above."""
    node = defaulttags.url(parser, token)
    return URLNode(node.view_name, node.args, node.kwargs, node.asvar)
