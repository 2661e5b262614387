"""The API's answers around its operations: every call made with a valid token is logged
(api.models.ApiRequest, attributed to the token), the answers are never cached, and what
Django answers by itself under /api/v1/ (an unknown URL, a wrong method) is a problem
document too (api.problems)."""

from api.models import ApiToken
from api.problems import CONTENT_TYPE, MSG_METHOD, MSG_NOT_FOUND, problem_response
from api.services import log_request
from esure.clientip import client_key

PREFIX = "/api/v1/"


class ApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        response = self.get_response(request)
        if response.status_code in (404, 405) and not response.get("Content-Type", "").startswith(
            (CONTENT_TYPE, "application/json")
        ):
            allow = response.get("Allow")
            if response.status_code == 404:
                response = problem_response(404, MSG_NOT_FOUND)
            else:
                response = problem_response(405, MSG_METHOD)
                if allow:
                    response["Allow"] = allow
        token = getattr(request, "auth", None)
        if isinstance(token, ApiToken):
            match = request.resolver_match
            log_request(
                token=token,
                ip=client_key(request),
                method=request.method,
                operation=match.url_name if match and match.url_name else "",
                status=response.status_code,
                number=getattr(request, "api_number", "") or "",
            )
        response["Cache-Control"] = "no-store"
        return response
