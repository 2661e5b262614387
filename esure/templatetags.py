"""Template filters available in every template (TEMPLATES "builtins" in settings).

    {{ guarantee.expires_on|wareki }}  → 令和7年3月31日
    {{ guarantee.amount|yen }}         → 金12,345,000円

None (or the empty string of a missing variable) renders as nothing; any other bad value
raises: a certificate must never print a silently wrong date or amount.
"""

from django import template

from esure.wareki import format_yen, to_wareki

register = template.Library()


@register.filter
def wareki(value):
    """A date in 和暦 via esure.wareki.to_wareki; empty for None."""
    if value is None or value == "":
        return ""
    return to_wareki(value)


@register.filter
def yen(value):
    """Whole yen as 金12,345,000円 via esure.wareki.format_yen; empty for None."""
    if value is None or value == "":
        return ""
    return format_yen(value)
