"""The orderers' API, /api/v1/ (django-ninja, OpenAPI 3.1): thin operations over the same
services and selectors as the pages (docs/decisions/0024).

- POST /verify: number + key through D-Sure's one access helper (dsure.services.
  find_guarantee: its normalisation, uniform failure, throttling), plus a per-token limit.
- GET /guarantees: the office's list (the inbox's rows, api.selectors.office_guarantees —
  those opened with the key marked `key_required`, decision 0041), filtered, in pages behind
  an opaque signed cursor (docs/decisions/0032).
- GET /guarantees/{number}, …/versions/{n}, …/versions/{n}.pdf: what reached the token's
  office (api.selectors.office_guarantee), else 404.
Errors are problem details (api.problems). The schema is at /api/v1/openapi.json; the docs
page (api.views.docs) renders it on our own template: no CDN, the CSP stays strict.
"""

import datetime
import json
from typing import Annotated, Literal
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.utils import timezone
from ninja import Header, NinjaAPI, Query, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import JSONRenderer

from api import limits, selectors, services
from api.auth import TokenAuth
from api.problems import (
    CONTENT_TYPE,
    MSG_BAD_CURSOR,
    MSG_BAD_DATETIME,
    MSG_IDEMPOTENCY_KEY_REUSED,
    MSG_INVALID,
    MSG_NOT_FOUND,
    MSG_TOO_MANY_VERIFY,
    MSG_UNAUTHORIZED,
    ApiProblem,
    problem_response,
)
from api.schemas import (
    AnswerOut,
    GuaranteeList,
    GuaranteeOut,
    Problem,
    ReceiptIn,
    ReturnIn,
    VerifyIn,
    VersionOut,
)
from dsure import services as dsure
from esure.clientip import client_key
from esure.storage import stored_file_response

DESCRIPTION = """発注者（発注機関）のシステムから電子証書を照合・取得するための API です。

認証: 発注機関の管理者が作成した APIトークンを `Authorization: Bearer <token>` で送ります。
エラーは RFC 9457 の problem details（`application/problem+json`、title と detail は日本語）です。
この発注機関に交付されていない保証は、存在しない番号と同じく 404 になります。
"""


class Utf8JSONRenderer(JSONRenderer):
    """UTF-8 JSON: 工事名 and 和暦 read as written (not as \\uXXXX), as in problem bodies."""

    json_dumps_params = {"ensure_ascii": False}


class EsureAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """Ninja's schema, with every error answer typed application/problem+json."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    if str(status).startswith(("4", "5")) and "content" in response:
                        body = response["content"].pop("application/json", None)
                        if body is not None:
                            response["content"][CONTENT_TYPE] = body
                    if str(status) == "429":
                        response["headers"] = {
                            "Retry-After": {
                                "description": "再試行までの秒数",
                                "schema": {"type": "integer"},
                            }
                        }
        return schema


api = EsureAPI(
    title="esure API（発注者向け）",
    version="1.0.0",
    description=DESCRIPTION,
    urls_namespace="api_v1",
    auth=TokenAuth(),
    renderer=Utf8JSONRenderer(),
    docs_url=None,  # ninja's docs page loads Swagger UI from a CDN: api.views.docs instead
)


@api.exception_handler(ApiProblem)
def _problem(request, exc):
    return problem_response(exc.status, exc.detail, retry_after=exc.retry_after, extra=exc.extra)


@api.exception_handler(AuthenticationError)
def _unauthorized(request, exc):
    return problem_response(401, MSG_UNAUTHORIZED)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problem_response(404, MSG_NOT_FOUND)


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc):
    errors = [
        {"loc": [str(part) for part in e.get("loc", [])], "msg": str(e.get("msg", ""))}
        for e in exc.errors
    ]
    return problem_response(422, MSG_INVALID, extra={"errors": errors})


@api.exception_handler(HttpError)
def _http_error(request, exc):
    return problem_response(exc.status_code, str(exc.message))


ERRORS = {401: Problem, 404: Problem, 422: Problem, 429: Problem}


@api.post(
    "/verify",
    response={200: GuaranteeOut, **ERRORS},
    url_name="verify",
    operation_id="verify",
    summary="保証契約番号と認証キーで照合する",
    tags=["照合"],
)
def verify(request, payload: VerifyIn):
    """D-Sure と同じ規則（入力の正規化・同一の失敗応答・入力制限）で照合し、現在の内容と版の一覧を
    返します。番号・キーの形式誤りは 422、番号が存在しない・キーが違う・再発行前の古いキーは
    すべて同じ 404、入力制限中は 429（Retry-After）です。"""
    token = request.auth
    wait = limits.verify_retry_after(token)
    if wait is not None:
        raise ApiProblem(429, MSG_TOO_MANY_VERIFY, retry_after=wait)
    ip = client_key(request)
    found = dsure.find_guarantee(typed_number=payload.number, typed_key=payload.key, ip=ip)
    request.api_number = found.number
    result = found.result
    if result is dsure.Result.OK:
        versions = selectors.detail_versions(found.guarantee_id)  # the guarantee joined
        return Status(200, selectors.guarantee_detail(versions[0].guarantee, versions))
    if result in (dsure.Result.NUMBER_FORMAT, dsure.Result.KEY_FORMAT):
        raise ApiProblem(422, found.message)
    if result is dsure.Result.NO_MATCH:
        raise ApiProblem(404, found.message)
    raise ApiProblem(429, found.message, retry_after=limits.dsure_retry_after(found.number, ip))


# certificates.selectors.Status.CODES, spelled out for the schema (a test keeps them equal).
StatusCode = Literal["valid", "changed", "cancelled", "completed", "expired"]
KindCode = Literal["advance", "contract", "intermediate"]
UPDATED_SINCE = "この日時（ISO 8601。オフセットがなければ日本時間）以後に更新されたもの"
WORK_NUMBER = "工事番号（全角・半角、空白やハイフンの違いは問わない）"
CURSOR = "前の答えの next_cursor"
LIMIT = "1ページの件数（最大200）"


def _aware(value):
    """`updated_since` as an aware datetime: without an offset it is read as Japan time."""
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value.astimezone(datetime.UTC)
    except (OverflowError, ValueError) as error:  # year 1 with a positive offset, and the like
        raise ApiProblem(422, MSG_BAD_DATETIME) from error


@api.get(
    "/guarantees",
    # 400: a NUL in the query (esure.middleware refuses it before any view).
    response={200: GuaranteeList, 400: Problem, 401: Problem, 422: Problem, 429: Problem},
    url_name="guarantees",
    operation_id="listGuarantees",
    summary="この発注機関に交付された保証の一覧（カーソルでページ送り）",
    tags=["保証"],
)
def guarantees(
    request,
    status: Annotated[StatusCode | None, Query(None, description="状態で絞り込む")] = None,
    kind: Annotated[KindCode | None, Query(None, description="保証の種類で絞り込む")] = None,
    updated_since: Annotated[
        datetime.datetime | None, Query(None, description=UPDATED_SINCE)
    ] = None,
    work_number: Annotated[str | None, Query(None, max_length=50, description=WORK_NUMBER)] = None,
    cursor: Annotated[str | None, Query(None, max_length=500, description=CURSOR)] = None,
    limit: Annotated[
        int, Query(selectors.LIST_LIMIT, ge=1, le=selectors.LIST_LIMIT_MAX, description=LIMIT)
    ] = selectors.LIST_LIMIT,
):
    """この発注機関に交付（電子提出を含む）された保証と、この発注機関の利用者が認証キーで
    閲覧した保証（`key_required` が true: 内容は POST /verify で取得）を、D-Sure の受信箱と
    同じ範囲で、最終更新日時の古い順に返します。
    最終更新日時は、最新の版の発行・この発注機関への交付・解約・完成・この発注機関の受領/返戻の
    うち最も新しいものです。次のページは `next`（または `cursor=next_cursor`）で取得します。
    カーソルはこの発注機関だけに有効で、改変されたものは 422 になります。"""
    office = request.auth.office
    try:
        after = selectors.decode_cursor(office, cursor) if cursor else None
    except selectors.BadCursor as error:
        raise ApiProblem(422, MSG_BAD_CURSOR) from error
    filters = {
        "status": status or "",
        "kind": kind or "",
        "updated_since": _aware(updated_since) if updated_since is not None else None,
        "work_number": work_number or "",
    }
    rows, more = selectors.office_guarantees(office, after=after, limit=limit, **filters)
    next_cursor = selectors.encode_cursor(office, rows[-1]) if more else None
    next_url = None
    if next_cursor:
        query = {k: v for k, v in request.GET.items() if k != "cursor"}
        next_url = f"{request.path}?{urlencode({**query, 'cursor': next_cursor})}"
    return Status(
        200,
        {
            "items": [selectors.list_item(g) for g in rows],
            "next": next_url,
            "next_cursor": next_cursor,
        },
    )


def _office_guarantee(request, number):
    guarantee = selectors.office_guarantee(request.auth.office, number)
    request.api_number = guarantee.number
    return guarantee


@api.get(
    "/guarantees/{number}",
    response={200: GuaranteeOut, 401: Problem, 404: Problem, 429: Problem},
    url_name="guarantee",
    operation_id="getGuarantee",
    summary="保証の現在の内容と版の一覧",
    tags=["保証"],
)
def guarantee(request, number: str):
    """この発注機関に交付された保証の、現在の内容（金額は整数、日付は ISO 8601 と和暦）と
    版の一覧。"""
    return Status(200, selectors.guarantee_detail(_office_guarantee(request, number)))


@api.get(
    "/guarantees/{number}/versions/{int:n}",
    response={200: VersionOut, 401: Problem, 404: Problem, 429: Problem},
    url_name="version",
    operation_id="getVersion",
    summary="版ごとの内容・正規化JSON・指紋",
    tags=["保証"],
)
def version(request, number: str, n: int):
    """1つの版の内容、指紋の対象となる正規化 JSON（canonical_json）、指紋（その SHA-256）、
    保存された PDF の SHA-256。"""
    return Status(200, selectors.version_detail(_office_guarantee(request, number), n))


@api.get(
    "/guarantees/{number}/versions/{int:n}.pdf",
    response={401: Problem, 404: Problem, 429: Problem},
    url_name="version_pdf",
    operation_id="getVersionPdf",
    summary="版の PDF（保存された原本のバイト列）",
    tags=["保証"],
    openapi_extra={
        "responses": {
            "200": {
                "description": "保存された PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def version_pdf(request, number: str, n: int):
    """発行時に保存された PDF をそのまま返します（その SHA-256 は pdf_sha256）。"""
    guarantee = _office_guarantee(request, number)
    document = selectors.version_pdf(guarantee, n)
    filename = f"{guarantee.number_display}-v{n}.pdf"
    return stored_file_response(document.file, content_type="application/pdf", filename=filename)


IDEMPOTENCY_KEY = (
    "この操作の一意なキー（1〜255文字の印字可能な ASCII、例: UUID）。同じキーと同じ内容の"
    "再送には最初の応答をそのまま返し、二度は記録しません（24時間有効）。同じキーで内容が"
    "異なると 422 です。"
)
IdempotencyKeyHeader = Annotated[
    str,
    Header(
        ...,
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x20-\x7e]+$",
        description=IDEMPOTENCY_KEY,
    ),
]
# The stored answer of a repeat (same key, same request): its 200, or the 409 of a version
# already answered, with this header (api.services.answer_version, decision 0032).
REPLAYED = {
    "Idempotent-Replayed": {
        "description": "同じ Idempotency-Key・同じ内容の再送に、最初の応答をそのまま返したとき"
        " true（初回の応答にはありません）",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
ANSWER_EXTRA = {"responses": {200: {"headers": REPLAYED}, 409: {"headers": REPLAYED}}}
ANSWER_RESPONSES = {
    200: AnswerOut,
    400: Problem,
    401: Problem,
    404: Problem,
    409: Problem,
    422: Problem,
    429: Problem,
}


def _answer(request, number, n, action, text, key):
    """受領/返戻 of version `n` for the token's office, once per Idempotency-Key: the answer
    is the stored one on a repeat (with `Idempotent-Replayed: true`)."""
    guarantee = _office_guarantee(request, number)
    certificate = selectors.answerable_version(guarantee, request.auth.office, n)
    try:
        answer = services.answer_version(
            token=request.auth, certificate=certificate, action=action, text=text, key=key
        )
    except services.KeyReused as error:
        raise ApiProblem(422, MSG_IDEMPOTENCY_KEY_REUSED) from error
    except ValidationError as error:  # a reason that is only spaces
        raise ApiProblem(422, " ".join(error.messages)) from error
    response = HttpResponse(
        json.dumps(answer.body, ensure_ascii=False),
        status=answer.status,
        content_type=CONTENT_TYPE if answer.status >= 400 else "application/json",
    )
    if answer.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


@api.post(
    "/guarantees/{number}/versions/{int:n}/receipt",
    response=ANSWER_RESPONSES,
    url_name="receipt",
    operation_id="receiveVersion",
    openapi_extra=ANSWER_EXTRA,
    summary="版を受領する（Idempotency-Key 必須）",
    tags=["受領・返戻"],
)
def receipt(
    request, number: str, n: int, payload: ReceiptIn, idempotency_key: IdempotencyKeyHeader
):
    """この発注機関に交付された版の受領を記録します（D-Sure の受領と同じ処理、監査証跡には
    この APIトークンとして記録）。すでに受領・返戻した版は 409 です。"""
    return _answer(request, number, n, services.RECEIPT, payload.note, idempotency_key)


@api.post(
    "/guarantees/{number}/versions/{int:n}/return",
    response=ANSWER_RESPONSES,
    url_name="return",
    operation_id="returnVersion",
    openapi_extra=ANSWER_EXTRA,
    summary="版を返戻する（理由が必要、Idempotency-Key 必須）",
    tags=["受領・返戻"],
)
def return_(request, number: str, n: int, payload: ReturnIn, idempotency_key: IdempotencyKeyHeader):
    """この発注機関に交付された版を、理由を添えて返戻します（D-Sure の返戻と同じ処理: 受注者と
    保証会社に理由がメールで届き、Webhook guarantee.returned が送られます）。すでに受領・
    返戻した版は 409 です。"""
    return _answer(request, number, n, services.RETURN, payload.reason, idempotency_key)
