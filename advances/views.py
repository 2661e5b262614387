"""前払金の使途管理 for the contractor's clerks: the designated account, the 明細書 and its
versions, withdrawals with their evidence. Every object goes through an access helper
(advances.selectors): another company's account is a 404."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import member_required
from accounts.forms import add_service_errors
from advances import forms, selectors, services
from advances.models import UsePlan, Withdrawal
from esure.storage import stored_file_response

P = UsePlan.Status
W = Withdrawal.Status


def _account(request, pk):
    return selectors.get_account_for_company(request.membership.company, pk)


@require_GET
@member_required
def index(request):
    """The company's 前払金保証 and 中間前払金保証, each with its account (or a way to
    register one)."""
    guarantees = selectors.guarantees_with_advance(request.membership.company)
    return render(request, "advances/index.html", {"guarantees": guarantees})


@require_http_methods(["GET", "POST"])
@member_required
def register(request, number):
    """前払金専用口座の登録 for a concluded 前払金保証 (or the work of a 中間前払金保証)."""
    guarantee = selectors.get_advance_guarantee_for(request.membership.company, number)
    work = guarantee.work
    accounts = selectors.accounts_of(request.membership.company).filter(work=work)
    # A JV deposited split by 出資比率: one account per member, until each has one.
    members = selectors.split_members(work)
    taken = {a.member_id for a in accounts}
    open_members = [m.company for m in members if m.company_id not in taken]
    if accounts and not open_members:
        return redirect("advances:account", accounts[0].pk)
    initial = {"overhead_clause": selectors.overhead_clause_default(work)}
    form = forms.AccountForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        work_kinds=selectors.work_kinds_for(work),
        members=open_members,
    )
    if request.method == "POST" and form.is_valid():
        try:
            account = services.register_account(
                guarantee=guarantee, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, "前払金専用口座を登録しました。次に使途内訳明細書を作成してください。"
            )
            return redirect("advances:account", account.pk)
    context = {
        "guarantee": guarantee,
        "work": work,
        "form": form,
        "split": selectors.split_of(work) if members else [],
    }
    return render(request, "advances/register.html", context, status=400 if form.errors else 200)


@require_GET
@member_required
def account(request, pk):
    account = _account(request, pk)
    context = {
        "account": account,
        "terms": selectors.account_terms(account),
        "position": selectors.position_of(account),
        "plan": selectors.plan_in_force(account),
        "open_plan": selectors.open_plan(account),
        "plans": account.plans.order_by("-version"),
        "withdrawals": account.withdrawals.order_by("-number"),
        "deposits": account.deposits.order_by("-received_on", "-pk"),
        "reason_form": forms.ReasonForm(),
    }
    return render(request, "advances/account.html", context)


@require_POST
@member_required
def plan_start(request, pk):
    """Start a version: the first 明細書, a correction of a returned one, or a 使途変更."""
    account = _account(request, pk)
    reason = request.POST.get("reason", "")[:2000]
    try:
        services.start_plan(account=account, by=request.user, reason=reason)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("advances:account", pk)
    return redirect("advances:plan_edit", pk)


def _plan_formset(account, data=None, lines=()):
    return forms.plan_formset(
        data,
        categories=services.use_categories_for(account),
        intermediate=bool(selectors.account_terms(account).intermediate),
        lines=lines,
    )


@require_http_methods(["GET", "POST"])
@member_required
def plan_edit(request, pk):
    """The open DRAFT version: save as typed, or submit (every rule, totals complete)."""
    account = _account(request, pk)
    plan = account.plans.filter(status=P.DRAFT).first()
    if plan is None:
        raise Http404
    formset = _plan_formset(
        account,
        request.POST if request.method == "POST" else None,
        plan.lines.select_related("category"),
    )
    problems = []
    if request.method == "POST" and formset.is_valid():
        action = request.POST.get("action", "save")
        try:
            services.save_plan_draft(
                plan=plan, by=request.user, rows=formset.rows(), reason=request.POST.get("reason")
            )
            if action == "submit":
                services.submit_plan(plan=plan, by=request.user)
                messages.success(request, f"明細書（第{plan.version}版）を保証会社に提出しました。")
                return redirect("advances:account", pk)
        except ValidationError as error:
            problems = error.messages
        else:
            messages.success(request, "明細書を保存しました（まだ提出していません）。")
            return redirect("advances:plan_edit", pk)
    plan.refresh_from_db()
    context = {
        "account": account,
        "plan": plan,
        "formset": formset,
        "problems": problems,
        "terms": selectors.account_terms(account),
    }
    status = 400 if request.method == "POST" else 200  # a POST that succeeded redirected
    return render(request, "advances/plan_edit.html", context, status=status)


@require_POST
@member_required
def plan_check(request, pk):
    """As the clerk types: rules 1–4 for the lines on the form (JSON), nothing saved."""
    account = _account(request, pk)
    formset = _plan_formset(account, request.POST)
    if not formset.is_valid():
        errors = {
            str(i): {name: list(messages_) for name, messages_ in form.errors.items()}
            for i, form in enumerate(formset.forms)
            if form.errors
        }
        return JsonResponse({"general": [], "lines": errors, "totals": {}})
    try:
        lines = services.build_lines(account, formset.rows())
    except ValidationError as error:
        return JsonResponse({"general": error.messages, "lines": {}, "totals": {}})
    complete = request.POST.get("action") == "submit"
    problems = services.plan_problems_of(account, lines, complete=complete).as_dict()
    # Rows were renumbered without the empty ones: map their messages back to the form rows.
    filled = [i for i, form in enumerate(formset.forms) if form.row() is not None]
    totals = {}
    for line in lines:
        totals[line.funding] = totals.get(line.funding, 0) + (line.amount or 0)
    return JsonResponse(
        {
            "general": problems["__all__"],
            "lines": {str(filled[int(i)]): fields for i, fields in problems["lines"].items()},
            "totals": totals,
        }
    )


@require_POST
@member_required
def plan_discard(request, pk):
    account = _account(request, pk)
    plan = get_object_or_404(account.plans, status=P.DRAFT)
    services.discard_plan_draft(plan=plan, by=request.user)
    messages.success(request, f"作成中の明細書（第{plan.version}版）を取り下げました。")
    return redirect("advances:account", pk)


@require_GET
@member_required
def plan_detail(request, pk, version):
    account = _account(request, pk)
    plan = selectors.get_plan(account, version)
    context = {
        "account": account,
        "plan": plan,
        "lines": plan.lines.select_related("category").order_by("key"),
        "history": plan.status_changes.select_related("by"),
        "terms": selectors.account_terms(account),
    }
    return render(request, "advances/plan_detail.html", context)


def pdf_response(document, filename):
    if not document:
        raise Http404
    response = stored_file_response(document, content_type="application/pdf", filename=filename)
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@member_required
def plan_pdf(request, pk, version):
    plan = selectors.get_plan(_account(request, pk), version)
    return pdf_response(plan.pdf, f"shitoseisaisho-{pk}-v{version}.pdf")


# --- Withdrawals ----------------------------------------------------------------------------


def _withdrawal_form(account, data=None, initial=None):
    plan = selectors.plan_in_force(account)
    lines = plan.lines.select_related("category").order_by("key") if plan else []
    return forms.WithdrawalForm(
        data,
        initial=initial,
        lines=lines,
        cash_allowed=settings.ESURE_ADVANCE_CASH_LIMIT > 0,
    )


@require_http_methods(["GET", "POST"])
@member_required
def withdrawal_edit(request, pk, number=None):
    """払出依頼: a new DRAFT, or its amounts changed while it is a draft."""
    account = _account(request, pk)
    withdrawal = None
    initial = None
    if number is not None:
        withdrawal = selectors.get_withdrawal(account, number)
        if withdrawal.status != W.DRAFT:
            raise Http404
        initial = {"requested_on": withdrawal.requested_on, "cash": withdrawal.cash}
        for line in withdrawal.lines.all():
            name = f"line_{line.plan_line_id}" if line.plan_line_id else "interest"
            initial[name] = line.amount
    form = _withdrawal_form(account, request.POST if request.method == "POST" else None, initial)
    if request.method == "POST" and form.is_valid():
        try:
            withdrawal = services.save_withdrawal_draft(
                account=account,
                by=request.user,
                rows=form.rows(),
                cash=form.cleaned_data.get("cash", False),
                requested_on=form.cleaned_data["requested_on"],
                withdrawal=withdrawal,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "払出依頼を保存しました。証憑を添付して送信してください。")
            return redirect("advances:withdrawal", pk, withdrawal.number)
    context = {
        "account": account,
        "withdrawal": withdrawal,
        "form": form,
        "position": selectors.position_of(account),
    }
    return render(
        request, "advances/withdrawal_edit.html", context, status=400 if form.errors else 200
    )


@require_GET
@member_required
def withdrawal(request, pk, number):
    account = _account(request, pk)
    withdrawal = selectors.get_withdrawal(account, number)
    return render(request, "advances/withdrawal.html", _withdrawal_context(account, withdrawal))


def _withdrawal_context(account, withdrawal, evidence_form=None):
    lines = withdrawal.lines.select_related("plan_line__category").prefetch_related(
        "evidence__kind", "plan_line__category__evidence_kinds"
    )
    draft = withdrawal.status == W.DRAFT
    return {
        "account": account,
        "withdrawal": withdrawal,
        "lines": lines,
        "total": services.withdrawal_total(withdrawal),
        "problems": services.withdrawal_problems_of(withdrawal).messages() if draft else [],
        "evidence_form": evidence_form
        or (forms.EvidenceForm(withdrawal=withdrawal) if draft else None),
        "history": withdrawal.status_changes.select_related("by"),
        "max_mb": settings.ESURE_EVIDENCE_MAX_BYTES // 2**20,
    }


@require_POST
@member_required
def evidence_add(request, pk, number):
    account = _account(request, pk)
    withdrawal = selectors.get_withdrawal(account, number)
    form = forms.EvidenceForm(request.POST, request.FILES, withdrawal=withdrawal)
    if form.is_valid():
        try:
            services.add_evidence(
                line=form.cleaned_data["line"],
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
                by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "証憑を添付しました。")
            return redirect("advances:withdrawal", pk, number)
    context = _withdrawal_context(account, withdrawal, evidence_form=form)
    return render(request, "advances/withdrawal.html", context, status=400)


@require_POST
@member_required
def evidence_remove(request, pk, number, evidence_pk):
    account = _account(request, pk)
    withdrawal = selectors.get_withdrawal(account, number)
    evidence = get_object_or_404(selectors.evidence_of(withdrawal), pk=evidence_pk)
    try:
        services.remove_evidence(evidence=evidence, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"証憑「{evidence.name}」を削除しました。")
    return redirect("advances:withdrawal", pk, number)


@require_GET
@member_required
def evidence_file(request, pk, number, evidence_pk):
    """An evidence file, only through the company's own withdrawal."""
    withdrawal = selectors.get_withdrawal(_account(request, pk), number)
    evidence = get_object_or_404(selectors.evidence_of(withdrawal), pk=evidence_pk)
    return serve_evidence(evidence)


def serve_evidence(evidence):
    """The stored bytes with their checked type, as a download (never rendered inline)."""
    response = stored_file_response(
        evidence.file,
        content_type=evidence.content_type,
        as_attachment=True,
        filename=evidence.name,
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _withdrawal_action(request, pk, number, service, done):
    account = _account(request, pk)
    withdrawal = selectors.get_withdrawal(account, number)
    try:
        result = service(withdrawal=withdrawal, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("advances:withdrawal", pk, number)
    messages.success(request, done(result))
    return redirect("advances:withdrawal", pk, result.number)


@require_POST
@member_required
def withdrawal_submit(request, pk, number):
    def done(result):
        if result.status == W.CASH_REVIEW:
            return "現金での払出依頼を保証会社に送りました。承認後に金融機関へ送られます。"
        return f"払出依頼（第{result.number}号）を {result.account.branch} に送信しました。"

    return _withdrawal_action(request, pk, number, services.submit_withdrawal, done)


@require_POST
@member_required
def withdrawal_cancel(request, pk, number):
    return _withdrawal_action(
        request,
        pk,
        number,
        services.cancel_withdrawal,
        lambda w: f"払出依頼（第{w.number}号）を取り下げました。",
    )


@require_POST
@member_required
def withdrawal_copy(request, pk, number):
    return _withdrawal_action(
        request,
        pk,
        number,
        services.copy_withdrawal,
        lambda w: f"修正用の払出依頼（第{w.number}号）を作成しました。",
    )


@require_GET
@member_required
def withdrawal_pdf(request, pk, number):
    withdrawal = selectors.get_withdrawal(_account(request, pk), number)
    return pdf_response(withdrawal.pdf, f"haraidashi-{pk}-{number}.pdf")
