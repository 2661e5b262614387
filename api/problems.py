"""Errors as RFC 9457 problem details (application/problem+json), in Japanese.

One function builds every error answer of the API, whatever raised it: a missing or
invalid token (401), anything outside the token's office (404, never 403: no existence
leak), invalid input (422), a limit (429 with Retry-After), a wrong method (405).
"""

import json

from django.http import HttpResponse

CONTENT_TYPE = "application/problem+json"

TITLES = {
    400: "リクエストが正しくありません",
    401: "認証が必要です",
    404: "見つかりません",
    405: "このメソッドは使えません",
    409: "リクエストが競合しています",
    422: "入力に誤りがあります",
    429: "リクエストが多すぎます",
}
MSG_UNAUTHORIZED = (
    "有効なAPIトークンを Authorization: Bearer ヘッダーで送ってください"
    "（失効・期限切れのトークンは使えません）。"
)
MSG_NOT_FOUND = "指定されたものは見つかりません（この発注機関に交付されたものだけを参照できます）。"
MSG_BAD_REQUEST = "リクエストの形式が正しくありません。"
MSG_METHOD = "このURLでは、このメソッドは使えません。"
MSG_INVALID = "入力の形式に誤りがあります。errors を確認してください。"
MSG_BAD_CURSOR = (
    "cursor が正しくありません。前の答えの next_cursor をそのまま渡してください"
    "（改変されたもの・他の発注機関のものは使えません）。"
)
MSG_BAD_DATETIME = "updated_since の日時を扱えません。ISO 8601 の日時で指定してください。"
MSG_IDEMPOTENCY_KEY_REUSED = (
    "この Idempotency-Key は別のリクエストに使われています。新しい操作には新しいキーを"
    "使ってください（同じ操作の再送なら、内容を変えずに送ってください）。"
)
MSG_TOO_MANY_AUTH = (
    "無効なAPIトークンでの呼び出しが続いたため、しばらく時間をおいてからお試しください。"
)
MSG_TOO_MANY_VERIFY = (
    "このAPIトークンでの照合の失敗が続いたため、しばらく時間をおいてからお試しください。"
)


class ApiProblem(Exception):
    """Raised by the API's code: answered as a problem (api.endpoints' exception handler)."""

    def __init__(self, status, detail="", *, retry_after=None, extra=None):
        super().__init__(status, detail)
        self.status = status
        self.detail = detail
        self.retry_after = retry_after
        self.extra = extra or {}


def problem_body(status, detail="", extra=None):
    return {
        "type": "about:blank",
        "title": TITLES.get(status, "エラー"),
        "status": status,
        "detail": detail,
        **(extra or {}),
    }


def problem_response(status, detail="", *, retry_after=None, extra=None):
    body = problem_body(status, detail, extra)
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=CONTENT_TYPE
    )
    if retry_after is not None:
        response["Retry-After"] = str(max(1, int(retry_after)))
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="esure"'
    return response
