"""The API's answers around its operations: every call made with a valid token is logged
(api.models.ApiRequest, attributed to the token), the answers are never cached, and what
Django answers by itself under /api/v1/ (an unknown URL, a wrong method) is a problem
document too (api.problems), and so is the 400 of esure.middleware.RefuseNulMiddleware (this
middleware runs outside it)."""

from api.models import ApiToken
from api.problems import (
    CONTENT_TYPE,
    MSG_BAD_REQUEST,
    MSG_METHOD,
    MSG_NOT_FOUND,
    problem_response,
)
from api.services import log_request
from esure.clientip import client_key

PREFIX = "/api/v1/"
# What Django and esure's middleware answer by themselves, as text or HTML: as problems.
PLAIN_ANSWERS = {400: MSG_BAD_REQUEST, 404: MSG_NOT_FOUND, 405: MSG_METHOD}


class ApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        response = self.get_response(request)
        status = response.status_code
        if status in PLAIN_ANSWERS and not response.get("Content-Type", "").startswith(
            (CONTENT_TYPE, "application/json")
        ):
            detail = PLAIN_ANSWERS[status]
            if status == 400 and response.get("Content-Type", "").startswith("text/plain"):
                detail = response.content.decode(errors="replace")[:200]  # e.g. the NUL refusal
            problem = problem_response(status, detail)
            for header, value in response.headers.items():  # Allow, and the inner middleware's
                if header.lower() not in ("content-type", "content-length"):
                    problem[header] = value
            response = problem
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
