from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services
from accounts.decorators import member_required
from accounts.forms import (
    BranchForm,
    CompanyRegistrationForm,
    InvitationForm,
    JointVentureForm,
    add_service_errors,
)
from accounts.models import Membership
from accounts.signals import mark_bank_session


def home(request):
    """HOME: a landing page for visitors; for a clerk, what the company can do now."""
    if not request.user.is_authenticated:
        return render(request, "home_public.html")
    membership = selectors.membership_of(request.user)
    bank_membership = None if membership else selectors.bank_membership_of(request.user)
    invitations = bank_invitations = office_invitations = []
    if membership is None and bank_membership is None:
        invitations = selectors.invitations_for(request.user)
        bank_invitations = selectors.bank_invitations_for(request.user)
        office_invitations = selectors.office_invitations_for(request.user)
    context = {
        "membership": membership,
        "bank_membership": bank_membership,
        "invitations": invitations,
        "bank_invitations": bank_invitations,
        "office_invitations": office_invitations,
    }
    return render(request, "home.html", context)


@login_required
def register(request):
    if selectors.membership_of(request.user) is not None:
        return redirect("accounts:company")
    form = CompanyRegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.register_company(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, "会社情報を登録しました。保証会社による確認が完了するまでお待ちください。"
            )
            return redirect("accounts:company")
    return render(request, "accounts/register.html", {"form": form})


def _company_page(request, form, status=200):
    membership = request.membership
    company = membership.company
    is_admin = membership.role == Membership.Role.ADMIN
    invitations = company.invitations.filter(accepted_at=None, revoked_at=None)
    context = {
        "company": company,
        "is_admin": is_admin,
        "members": company.memberships.select_related("user").order_by("joined_at"),
        "invitations": invitations.order_by("-created_at") if is_admin else [],
        "branches": company.branches.all(),
        "duties": Membership.Duty.choices,
        "joint_ventures": selectors.joint_ventures_of(company),
        "form": form,
    }
    return render(request, "accounts/company.html", context, status=status)


@member_required
def company(request):
    return _company_page(request, InvitationForm())


@require_POST
@member_required
def invite(request):
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            services.invite_member(
                company=request.membership.company,
                email=form.cleaned_data["email"],
                by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"{form.cleaned_data['email']} に招待のお知らせを送信しました。"
            )
            return redirect("accounts:company")
    return _company_page(request, form, status=400)


@require_POST
@login_required
def revoke_invitation(request, pk):
    invitation = selectors.get_own_invitation(request.user, pk)
    services.revoke_invitation(invitation=invitation, by=request.user)
    messages.success(request, f"{invitation.email} への招待を取り消しました。")
    return redirect("accounts:company")


@require_POST
@login_required
def accept_invitation(request, pk):
    invitation = selectors.get_invitation_for_invitee(request.user, pk)
    try:
        services.accept_invitation(invitation=invitation, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("home")
    messages.success(request, f"{invitation.company.name} に参加しました。")
    return redirect("home")


@require_POST
@login_required
def accept_bank_invitation(request, pk):
    """The invited bank staff member joins the branch; TOTP must be set up next."""
    invitation = selectors.get_bank_invitation_for_invitee(request.user, pk)
    try:
        services.accept_bank_invitation(invitation=invitation, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("home")
    mark_bank_session(request)
    messages.success(request, f"{invitation.branch} のご担当者として参加しました。")
    return redirect("home")


@require_POST
@member_required
def set_duty(request, pk):
    """The administrator gives a member the role 申込担当 or 承認者."""
    membership = selectors.get_member_for_admin(request.user, pk)
    duty = request.POST.get("duty")
    if duty not in Membership.Duty.values:
        messages.error(request, "役割を選択してください。")
        return redirect("accounts:company")
    try:
        services.set_duty(membership=membership, duty=duty, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        label = Membership.Duty(duty).label
        messages.success(request, f"{membership.user.email} を{label}にしました。")
    return redirect("accounts:company")


@require_http_methods(["GET", "POST"])
@member_required
def joint_venture_new(request):
    """共同企業体の登録: the clerk of the representative company (代表者) registers the JV."""
    company = request.membership.company
    form = JointVentureForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                jv = services.register_joint_venture(
                    company=company,
                    by=request.user,
                    name=data["name"],
                    kind=data["kind"],
                    advance_deposit=data["advance_deposit"],
                    own_share=data["own_share"],
                    members=form.members(),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{jv.name}を登録しました。")
                return redirect("accounts:company")
    context = {"form": form, "company": company}
    return render(request, "accounts/joint_venture_form.html", context, status=status)


def _branch_page(request, form, branch=None, status=200):
    context = {"form": form, "branch": branch, "company": request.membership.company}
    return render(request, "accounts/branch_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@member_required
def branch_edit(request, pk=None):
    """支店・営業所 and its 受任者: the administrator registers (pk None) or edits one."""
    branch = selectors.get_branch_for_admin(request.user, pk) if pk else None
    if request.membership.role != Membership.Role.ADMIN:
        raise Http404
    form = BranchForm(request.POST or None, instance=branch)
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = services.save_branch(
                    company=request.membership.company,
                    by=request.user,
                    branch=branch,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{saved.name}（受任者 {saved.agent}）を登録しました。")
                return redirect("accounts:company")
        return _branch_page(request, form, branch, status=400)
    return _branch_page(request, form, branch)


@require_POST
@login_required
def accept_office_invitation(request, pk):
    """The invited orderer's staff member joins the office and goes to its list."""
    invitation = selectors.get_office_invitation_for_invitee(request.user, pk)
    try:
        services.accept_office_invitation(invitation=invitation, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("home")
    messages.success(request, f"{invitation.office} の利用者として参加しました。")
    return redirect("dsure:inbox")
