"""Access helpers: one per guarded object. Another company's object is a 404, like a missing one."""

from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied
from django.db.models.functions import Lower
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import (
    BankInvitation,
    BankMembership,
    Branch,
    Invitation,
    JointVenture,
    JointVentureMember,
    Membership,
    OfficeInvitation,
    OfficeMembership,
    User,
)


def membership_of(user):
    """The user's membership with its company, or None. The request's user comes with both
    joined (accounts.backends): no query for it; any other user costs one."""
    if not user.is_authenticated:
        return None
    if User.membership.is_cached(user):
        try:
            return user.membership
        except Membership.DoesNotExist:  # cached as none: staff, office and bank users
            return None
    return Membership.objects.select_related("company").filter(user=user).first()


MSG_APPROVER_ONLY = (
    "この操作は承認者のみが行えます。申込担当の方は、申込を保存して貴社の承認者に"
    "送信（申込・変更の申込）や認証キーの表示を依頼してください。"
)


def require_approver(user, company):
    """The one check of the 申込担当/承認者 rule (decision 0022): only a 承認者 of `company`
    submits an application or a change and shows its 認証キー; anyone else gets
    PermissionDenied (a 403 with MSG_APPROVER_ONLY)."""
    allowed = Membership.objects.filter(
        user_id=user.pk, company=company, duty=Membership.Duty.APPROVER
    ).exists()
    if not allowed:
        raise PermissionDenied(MSG_APPROVER_ONLY)


def get_member_for_admin(user, pk):
    """A membership of the user's own company, for its administrator (others: 404)."""
    membership = membership_of(user)
    if membership is None or membership.role != Membership.Role.ADMIN:
        raise Http404
    return get_object_or_404(
        Membership.objects.select_related("user"), pk=pk, company=membership.company
    )


def joint_ventures_of(company):
    """The JVs the company is a member of (as 代表者 or 構成員), with their members."""
    return (
        JointVenture.objects.filter(members__company=company)
        .select_related("representative")
        .prefetch_related("members__company")
        .order_by("-created_at")
    )


def joint_venture_ids_of(company):
    """A subquery of the JVs the company belongs to (for the registry's read access)."""
    return JointVentureMember.objects.filter(company=company).values("joint_venture_id")


def joint_venture_member(company):
    """Whose JVs a prepared list's rule reads (certificates.selectors.readable_by's
    `member`): the company's id, or None where the company was loaded with the logged-in user
    and belongs to no 共同企業体 then (accounts.backends reads it on every request: decision
    0056). A company loaded any other way may be in one: its id."""
    return None if getattr(company, "in_joint_venture", True) is False else company.pk


def unverified_members(joint_venture):
    """The JV's members that are not (or no longer) verified: a JV is refused until none."""
    return [
        m.company
        for m in joint_venture.members.select_related("company")
        if not m.company.is_verified
    ]


def get_own_invitation(user, pk):
    """An open invitation of the user's own company, for its administrator."""
    membership = membership_of(user)
    if membership is None or membership.role != Membership.Role.ADMIN:
        raise Http404
    return get_object_or_404(
        Invitation, pk=pk, company=membership.company, accepted_at=None, revoked_at=None
    )


def get_branch_for_admin(user, pk):
    """A branch of the user's own company, for its administrator (others: 404)."""
    membership = membership_of(user)
    if membership is None or membership.role != Membership.Role.ADMIN:
        raise Http404
    return get_object_or_404(Branch, pk=pk, company=membership.company)


def invitations_for(user):
    """Open invitations addressed to one of the user's verified e-mail addresses."""
    verified = EmailAddress.objects.filter(user=user, verified=True).values_list(
        Lower("email"), flat=True
    )
    return (
        Invitation.objects.select_related("company", "invited_by")
        .annotate(email_lower=Lower("email"))
        .filter(email_lower__in=verified, accepted_at=None, revoked_at=None)
        .order_by("-created_at")
    )


def get_invitation_for_invitee(user, pk):
    invitation = invitations_for(user).filter(pk=pk).first()
    if invitation is None:
        raise Http404
    return invitation


def bank_membership_of(user):
    """The user's bank-branch membership (with branch and bank), or None."""
    if not user.is_authenticated:
        return None
    return BankMembership.objects.select_related("branch__bank").filter(user=user).first()


def bank_invitations_for(user):
    """Open bank invitations addressed to one of the user's verified e-mail addresses."""
    verified = EmailAddress.objects.filter(user=user, verified=True).values_list(
        Lower("email"), flat=True
    )
    return (
        BankInvitation.objects.select_related("branch__bank")
        .annotate(email_lower=Lower("email"))
        .filter(email_lower__in=verified, accepted_at=None, revoked_at=None)
        .order_by("-created_at")
    )


def get_bank_invitation_for_invitee(user, pk):
    invitation = bank_invitations_for(user).filter(pk=pk).first()
    if invitation is None:
        raise Http404
    return invitation


def office_invitations_for(user):
    """Open office invitations addressed to one of the user's verified e-mail addresses."""
    verified = EmailAddress.objects.filter(user=user, verified=True).values_list(
        Lower("email"), flat=True
    )
    return (
        OfficeInvitation.objects.select_related("office__orderer")
        .annotate(email_lower=Lower("email"))
        .filter(email_lower__in=verified, accepted_at=None, revoked_at=None)
        .order_by("-created_at")
    )


def get_office_invitation_for_invitee(user, pk):
    invitation = office_invitations_for(user).filter(pk=pk).first()
    if invitation is None:
        raise Http404
    return invitation


def office_members_of(orderer):
    """Every office user of the orderer, by office, with their user."""
    return list(
        OfficeMembership.objects.filter(office__orderer=orderer)
        .select_related("user", "office")
        .order_by("office__name", "user__email")
    )


def get_office_member_for(orderer, pk):
    """One office user of the orderer; another orderer's is a 404."""
    membership = (
        OfficeMembership.objects.filter(office__orderer=orderer, pk=pk)
        .select_related("user", "office__orderer")
        .first()
    )
    if membership is None:
        raise Http404
    return membership


def open_office_invitations_of(orderer):
    return list(
        OfficeInvitation.objects.filter(office__orderer=orderer, accepted_at=None, revoked_at=None)
        .select_related("office")
        .order_by("-created_at")
    )


def get_office_invitation_for(orderer, pk):
    invitation = (
        OfficeInvitation.objects.filter(office__orderer=orderer, pk=pk)
        .select_related("office__orderer")
        .first()
    )
    if invitation is None:
        raise Http404
    return invitation
