"""Project-wide request middleware (not an app's)."""

from django.http import HttpResponseBadRequest

MSG_NUL = "リクエストに使用できない文字（NUL）が含まれています。"


class RefuseNulMiddleware:
    """Answer 400 to a request with a NUL character in any parameter, name or value.

    No one types NUL; PostgreSQL refuses it in every text value (DataError, a 500 wherever a
    value reaches a query unvalidated: admin list filters, free-text notes). Django's form
    fields already refuse it; this refuses it once for every other way in (decision 0030).
    Paths are the URL converters' job (esure.converters: a NUL segment resolves to no view,
    404). Uploaded files are bytes and may hold anything; Django's parser cleans their names.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request):
            return HttpResponseBadRequest(MSG_NUL, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def _has_nul(request):
    parameters = [request.GET]
    if request.method == "POST":
        parameters.append(request.POST)
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for query in parameters
        for key, values in query.lists()
    )
