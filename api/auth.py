"""Bearer-token authentication for the API (django-ninja's HttpBearer).

The token is checked by its SHA-256 (api.services.authenticate); unknown, revoked and
expired tokens get one answer (401). Failed checks are counted per client address
(api.limits): past the limit the address's failures get 429 until its window ends. A valid
token is never refused for others' failures on a shared address (cities share outbound
addresses), and costs no counter read.
"""

from ninja.security import HttpBearer

from api import limits, services
from api.problems import MSG_TOO_MANY_AUTH, ApiProblem
from esure.clientip import client_key


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        found = services.authenticate(token)
        if found is not None:
            return found
        ip = client_key(request)
        wait = limits.auth_retry_after(ip)
        if wait is not None:
            raise ApiProblem(429, MSG_TOO_MANY_AUTH, retry_after=wait)
        limits.count_auth_failure(ip)
        return None
