from django.conf import settings
from django.utils.functional import SimpleLazyObject

from esure.csrf import get_token


def site(request):
    return {"surety_name": settings.ESURE_SURETY_NAME}


def csrf(request):
    """{% csrf_token %}'s token by esure.csrf.get_token (decision 0054), made only when a
    page prints it. Django's own csrf processor always runs first; this one, listed in the
    settings, replaces its value."""
    return {"csrf_token": SimpleLazyObject(lambda: get_token(request))}
