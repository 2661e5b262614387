"""Template filters available in every template (TEMPLATES "builtins" in settings).

    {{ guarantee.expires_on|wareki }}  → 令和7年3月31日
    {{ guarantee.amount|yen }}         → 金12,345,000円 (as certificates print it)
    {{ limits.max_advance|yen:"plain" }} → 12,345,000円 (in sentences and tables)

None (or the empty string of a missing variable) renders as nothing; any other bad value
raises: a certificate must never print a silently wrong date or amount.
"""

from django import template

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
