"""The bank's pages (預託金融機関の担当者, TOTP required): the accounts kept at the user's
branch with their accepted plan, the withdrawal requests with the checks already made,
confirmation or refusal, the execution (払出報告), deposits and the bulk CSV.

Every object goes through a branch-scoped access helper: another branch's account or
withdrawal, and a draft, are a 404.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import bank_member_required
from accounts.forms import add_service_errors
from advances import forms, imports, selectors, services
from advances.models import BankImport, UsePlan, Withdrawal
from advances.views import pdf_response, serve_evidence

W = Withdrawal.Status


def _branch(request):
    return request.bank_membership.branch


@require_GET
@bank_member_required
def index(request):
    branch = _branch(request)
    context = {
        "branch": branch,
        "waiting": selectors.withdrawals_at(branch, [W.SUBMITTED]),
        "confirmed": selectors.withdrawals_at(branch, [W.CONFIRMED]),
        "recent": selectors.withdrawals_at(branch, [W.EXECUTED, W.REJECTED, W.CANCELLED])[:20],
        "accounts": selectors.accounts_at(branch),
    }
    return render(request, "advances/bank/index.html", context)


def _account_page(request, account, deposit_form, status=200):
    context = {
        "account": account,
        "terms": selectors.account_terms(account),
        "position": selectors.position_of(account),
        "plan": selectors.plan_in_force(account),
        "withdrawals": selectors.withdrawals_at(account.branch).filter(account=account),
        "deposits": account.deposits.order_by("-received_on", "-pk"),
        "deposit_form": deposit_form,
    }
    return render(request, "advances/bank/account.html", context, status=status)


@require_GET
@bank_member_required
def account(request, pk):
    account = selectors.get_account_for_branch(_branch(request), pk)
    form = forms.DepositForm(initial={"received_on": timezone.localdate(), "kind": "advance"})
    return _account_page(request, account, form)


@require_POST
@bank_member_required
def deposit(request, pk):
    """入金の記録: the 前払金 or 中間前払金 paid in by the orderer, or interest."""
    account = selectors.get_account_for_branch(_branch(request), pk)
    form = forms.DepositForm(request.POST)
    if form.is_valid():
        try:
            services.record_deposit(account=account, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "入金を記録しました。")
            return redirect("bank:account", pk)
    return _account_page(request, account, form, status=400)


@require_GET
@bank_member_required
def plan_pdf(request, pk, version):
    """A plan version the bank checks against: accepted ones (in force or superseded)."""
    account = selectors.get_account_for_branch(_branch(request), pk)
    plan = selectors.get_plan(account, version)
    if plan.status not in (UsePlan.Status.ACCEPTED, UsePlan.Status.SUPERSEDED):
        raise Http404
    return pdf_response(plan.pdf, f"shitoseisaisho-{pk}-v{version}.pdf")


def _withdrawal_page(request, withdrawal, *, reject_form=None, execution_form=None, status=200):
    account = withdrawal.account
    waiting = withdrawal.status in (W.SUBMITTED, W.CONFIRMED)
    context = {
        "account": account,
        "withdrawal": withdrawal,
        "lines": withdrawal.lines.select_related("plan_line__category").prefetch_related(
            "evidence__kind", "plan_line__category__evidence_kinds"
        ),
        "total": services.withdrawal_total(withdrawal),
        "position": selectors.position_of(account),
        "plan": selectors.plan_in_force(account),
        # The checks of rules 6–8, made now against the plan in force and the account.
        "problems": services.withdrawal_problems_of(withdrawal).messages() if waiting else [],
        "reject_form": reject_form or forms.ReasonForm(),
        "execution_form": execution_form
        or forms.ExecutionForm(
            initial={
                "executed_on": timezone.localdate(),
                "amount": services.withdrawal_total(withdrawal),
            }
        ),
        "history": withdrawal.status_changes.select_related("by"),
    }
    return render(request, "advances/bank/withdrawal.html", context, status=status)


def _withdrawal(request, pk):
    return selectors.get_withdrawal_for_branch(_branch(request), pk)


@require_GET
@bank_member_required
def withdrawal(request, pk):
    return _withdrawal_page(request, _withdrawal(request, pk))


@require_POST
@bank_member_required
def confirm(request, pk):
    withdrawal = _withdrawal(request, pk)
    try:
        services.confirm_withdrawal(withdrawal=withdrawal, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"払出依頼（{withdrawal.reference}）を確認しました。払出後に払出日を記録してください。",
        )
    return redirect("bank:withdrawal", pk)


@require_POST
@bank_member_required
def reject(request, pk):
    withdrawal = _withdrawal(request, pk)
    form = forms.ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.reject_withdrawal(
                withdrawal=withdrawal, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"払出依頼（{withdrawal.reference}）を不承認にしました。")
            return redirect("bank:withdrawal", pk)
    return _withdrawal_page(request, withdrawal, reject_form=form, status=400)


@require_POST
@bank_member_required
def execute(request, pk):
    """払出の記録 (the 払出報告 to the surety): day, amount, the bank's transaction number."""
    withdrawal = _withdrawal(request, pk)
    form = forms.ExecutionForm(request.POST)
    if form.is_valid():
        try:
            services.record_execution(withdrawal=withdrawal, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"払出依頼（{withdrawal.reference}）の払出を記録しました。")
            return redirect("bank:withdrawal", pk)
    return _withdrawal_page(request, withdrawal, execution_form=form, status=400)


@require_GET
@bank_member_required
def evidence_file(request, pk, evidence_pk):
    withdrawal = _withdrawal(request, pk)
    return serve_evidence(get_object_or_404(selectors.evidence_of(withdrawal), pk=evidence_pk))


@require_GET
@bank_member_required
def withdrawal_pdf(request, pk):
    withdrawal = _withdrawal(request, pk)
    return pdf_response(withdrawal.pdf, f"haraidashi-{withdrawal.reference}.pdf")


@require_http_methods(["GET", "POST"])
@bank_member_required
def bulk_import(request):
    """払出済みの一括取込: the branch's CSV of executed transfers."""
    branch = _branch(request)
    form = forms.ImportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            record = imports.import_bank_csv(
                branch=branch, by=request.user, name=upload.name, data=upload.read()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "取り込みました。結果をご確認ください。")
            return redirect("bank:import_result", record.pk)
    context = {
        "form": form,
        "columns": imports.CSV_COLUMNS,
        "imports": BankImport.objects.filter(branch=branch)[:20],
    }
    return render(request, "advances/bank/import.html", context, status=400 if form.errors else 200)


@require_GET
@bank_member_required
def import_result(request, pk):
    record = get_object_or_404(BankImport, pk=pk, branch=_branch(request))
    return render(request, "advances/bank/import_result.html", {"record": record})
