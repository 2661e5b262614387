"""Writes that matter for users, companies and orderers. Views and admin call these."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import notifications
from accounts.models import Company, CompanyStatusChange, Invitation, Membership
from audit import services as audit

MSG_ALREADY_MEMBER = "すでに会社に所属しています。"
MSG_CORPORATE_NUMBER_TAKEN = (
    "この法人番号の会社はすでに登録されています。貴社の登録済みの担当者から招待を受けてください。"
)
MSG_ALREADY_INVITED = "このメールアドレスはすでに招待済みです。"
MSG_ALREADY_IN_COMPANY = "このメールアドレスの利用者はすでに貴社に所属しています。"
MSG_NOT_ALLOWED = "この操作を行う権限がありません。"

# Which company moves staff may make (STYLE.md: an explicit table, one helper).
COMPANY_ALLOWED = {
    Company.Status.PENDING: {Company.Status.VERIFIED, Company.Status.SUSPENDED},
    Company.Status.VERIFIED: {Company.Status.SUSPENDED},
    Company.Status.SUSPENDED: {Company.Status.VERIFIED},
}


class TransitionError(ValidationError):
    pass


def register_company(*, user, **fields):
    """The signed-up clerk registers the company and becomes its administrator (確認待ち)."""
    with transaction.atomic():
        if Membership.objects.filter(user=user).exists():
            raise ValidationError(MSG_ALREADY_MEMBER)
        if Company.objects.filter(corporate_number=fields["corporate_number"]).exists():
            raise ValidationError({"corporate_number": MSG_CORPORATE_NUMBER_TAKEN})
        try:
            with transaction.atomic():
                company = Company.objects.create(status=Company.Status.PENDING, **fields)
        except IntegrityError as error:  # registered a moment ago by someone else
            raise ValidationError({"corporate_number": MSG_CORPORATE_NUMBER_TAKEN}) from error
        Membership.objects.create(user=user, company=company, role=Membership.Role.ADMIN)
    return company


def _move_company(*, company, to, by, note=""):
    with transaction.atomic():
        company = Company.objects.select_for_update().get(pk=company.pk)
        if to not in COMPANY_ALLOWED.get(company.status, set()):
            raise TransitionError(
                f"「{company.get_status_display()}」から「{Company.Status(to).label}」には変更できません。"
            )
        old = company.status
        company.status = to
        if to == Company.Status.VERIFIED:
            company.verified_at = timezone.now()
        company.save(update_fields=["status", "verified_at"])
        CompanyStatusChange.objects.create(
            company=company, old_status=old, new_status=to, by=by, note=note
        )
        audit.record(
            actor=by,
            action=f"company.{Company.Status(to).value}",
            obj=company,
            data={
                "from": Company.Status(old).value,
                "to": Company.Status(to).value,
                "corporate_number": company.corporate_number,
                "note": note[:200],
            },
        )
    return company


def verify_company(*, company, by, note=""):
    """Staff confirm the company's identity; its members may then apply."""
    with transaction.atomic():
        company = _move_company(company=company, to=Company.Status.VERIFIED, by=by, note=note)
        notifications.company_verified(company)
    return company


def suspend_company(*, company, by, note=""):
    """Staff stop a company from applying (its certificates stay valid and viewable)."""
    return _move_company(company=company, to=Company.Status.SUSPENDED, by=by, note=note)


def invite_member(*, company, email, by):
    """A company administrator invites a colleague by e-mail address."""
    email = email.strip().lower()
    if not Membership.objects.filter(user=by, company=company, role=Membership.Role.ADMIN).exists():
        raise PermissionDenied(MSG_NOT_ALLOWED)
    with transaction.atomic():
        if Membership.objects.filter(company=company, user__email__iexact=email).exists():
            raise ValidationError({"email": MSG_ALREADY_IN_COMPANY})
        open_invitations = Invitation.objects.filter(
            company=company, email__iexact=email, accepted_at=None, revoked_at=None
        )
        if open_invitations.exists():
            raise ValidationError({"email": MSG_ALREADY_INVITED})
        invitation = Invitation.objects.create(company=company, email=email, invited_by=by)
        notifications.member_invited(invitation)
    return invitation


def revoke_invitation(*, invitation, by):
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.is_open:
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at"])
    return invitation


def accept_invitation(*, invitation, user):
    """The invitee (logged in with the invited, verified address) joins the company."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_open:
            raise ValidationError("この招待はすでに使用済みか、取り消されています。")
        if Membership.objects.filter(user=user).exists():
            raise ValidationError(MSG_ALREADY_MEMBER)
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        membership = Membership.objects.create(
            user=user, company=invitation.company, role=Membership.Role.MEMBER
        )
    return membership
