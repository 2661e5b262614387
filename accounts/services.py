"""Writes that matter for users, companies and orderers. Views and admin call these."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import notifications, validators
from accounts.models import (
    BankInvitation,
    BankMembership,
    Branch,
    Company,
    CompanyStatusChange,
    Invitation,
    JointVenture,
    JointVentureMember,
    Membership,
    OfficeInvitation,
    OfficeMembership,
)
from audit import services as audit
from esure.workflow import TransitionError as TransitionError
from esure.workflow import Workflow

MSG_ALREADY_MEMBER = "すでに会社に所属しています。"
MSG_CORPORATE_NUMBER_TAKEN = (
    "この法人番号の会社はすでに登録されています。貴社の登録済みの担当者から招待を受けてください。"
)
MSG_ALREADY_INVITED = "このメールアドレスはすでに招待済みです。"
MSG_ALREADY_IN_COMPANY = "このメールアドレスの利用者はすでに貴社に所属しています。"
MSG_NOT_ALLOWED = "この操作を行う権限がありません。"
MSG_HAS_OTHER_ROLE = (
    "この利用者はすでに保証会社職員、受注者、発注機関または金融機関の利用者です。"
    "一人の利用者が持てる立場は一つです。別のメールアドレスで登録してください。"
)
MSG_BANK_ALREADY_INVITED = "このメールアドレスはすでに金融機関の利用者として招待済みです。"
MSG_BANK_ALREADY_MEMBER = "このメールアドレスの利用者はすでに金融機関の利用者です。"
MSG_INVITATION_CLOSED = "この招待はすでに使用済みか、取り消されています。"
MSG_LAST_APPROVER = "承認者が一人もいなくなるため変更できません。先に他の方を承認者にしてください。"
MSG_BRANCH_NAME_TAKEN = "この名称の支店・営業所はすでに登録されています。"

# Which company moves staff may make (STYLE.md: an explicit table, one helper).
COMPANY_ALLOWED = {
    Company.Status.PENDING: {Company.Status.VERIFIED, Company.Status.SUSPENDED},
    Company.Status.VERIFIED: {Company.Status.SUSPENDED},
    Company.Status.SUSPENDED: {Company.Status.VERIFIED},
}


MSG_TRANSITION = "「{old}」から「{new}」には変更できません。"
COMPANY = Workflow(table=COMPANY_ALLOWED, history=CompanyStatusChange, message=MSG_TRANSITION)


def register_company(*, user, **fields):
    """The signed-up clerk registers the company and becomes its administrator (確認待ち)."""
    with transaction.atomic():
        check_has_no_role(user, joining_company=True)
        if Company.objects.filter(corporate_number=fields["corporate_number"]).exists():
            raise ValidationError({"corporate_number": MSG_CORPORATE_NUMBER_TAKEN})
        try:
            with transaction.atomic():
                company = Company.objects.create(status=Company.Status.PENDING, **fields)
        except IntegrityError as error:  # registered a moment ago by someone else
            raise ValidationError({"corporate_number": MSG_CORPORATE_NUMBER_TAKEN}) from error
        Membership.objects.create(user=user, company=company, role=Membership.Role.ADMIN)
    return company


def check_has_no_role(user, *, joining_company=False):
    """One person, one role (decisions 0015, 0018): surety staff, a company's member, an
    orderer office's user and a bank user are different people, so every access helper answers
    "who is this" without a choice. The one check of registering a company and accepting any
    invitation."""
    if joining_company and Membership.objects.filter(user=user).exists():
        raise ValidationError(MSG_ALREADY_MEMBER)
    if (
        user.is_staff
        or Membership.objects.filter(user=user).exists()
        or OfficeMembership.objects.filter(user=user).exists()
        or BankMembership.objects.filter(user=user).exists()
    ):
        raise ValidationError(MSG_HAS_OTHER_ROLE)


def _accept(invitation, user, *, joining_company=False):
    """Lock the invitation, refuse a closed one or an invitee who holds a role, stamp it
    accepted (inside the caller's transaction)."""
    invitation = type(invitation).objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open:
        raise ValidationError(MSG_INVITATION_CLOSED)
    check_has_no_role(user, joining_company=joining_company)
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return invitation


def _revoke(invitation):
    """Close an open invitation of any kind; a closed one stays as it is."""
    with transaction.atomic():
        invitation = type(invitation).objects.select_for_update().get(pk=invitation.pk)
        if invitation.is_open:
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at"])
    return invitation


def _move_company(*, company, to, by, note=""):
    with transaction.atomic():
        stamp = ("verified_at",) if to == Company.Status.VERIFIED else ()
        company, change = COMPANY.move(company, to=to, by=by, note=note, stamp=stamp)
        old = change.old_status
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


def _require_admin(company, by):
    if not Membership.objects.filter(user=by, company=company, role=Membership.Role.ADMIN).exists():
        raise PermissionDenied(MSG_NOT_ALLOWED)


def invite_member(*, company, email, by):
    """A company administrator invites a colleague by e-mail address."""
    email = email.strip().lower()
    _require_admin(company, by)
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
    return _revoke(invitation)


def accept_invitation(*, invitation, user):
    """The invitee (logged in with the invited, verified address) joins the company."""
    with transaction.atomic():
        invitation = _accept(invitation, user, joining_company=True)
        # A newcomer drafts until the administrator makes them a 承認者 (decision 0022).
        membership = Membership.objects.create(
            user=user,
            company=invitation.company,
            role=Membership.Role.MEMBER,
            duty=Membership.Duty.DRAFTER,
        )
    return membership


def set_duty(*, membership, duty, by):
    """The administrator makes a member 申込担当 or 承認者; the last 承認者 stays one (so a
    one-person company's only member always holds both roles)."""
    _require_admin(membership.company, by)
    duty = Membership.Duty(duty)
    with transaction.atomic():
        members = Membership.objects.select_for_update().filter(company=membership.company)
        approvers = {m.pk for m in members if m.duty == Membership.Duty.APPROVER}
        if duty == Membership.Duty.DRAFTER and approvers == {membership.pk}:
            raise ValidationError(MSG_LAST_APPROVER)
        old = membership.duty
        Membership.objects.filter(pk=membership.pk).update(duty=duty)
        membership.duty = duty
        audit.record(
            actor=by,
            action="member.duty",
            obj=membership,
            data={"user": membership.user.email, "from": old, "to": duty.value},
        )
    return membership


MSG_JV_MEMBER_UNKNOWN = (
    "法人番号 {number} の会社はesureに登録されていません。"
    "構成員の会社にesureへの登録を依頼してください。"
)
MSG_JV_MEMBER_NOT_VERIFIED = (
    "{name}は保証会社による会社情報の確認が完了していないため、構成員にできません。"
)
MSG_JV_MEMBER_IS_REPRESENTATIVE = "代表者（貴社）は構成員欄に入力しないでください。"
MSG_JV_MEMBER_TWICE = "同じ会社が2回入力されています。"
MSG_JV_NO_MEMBER = "代表者のほかに構成員を1社以上入力してください。"
MSG_JV_NOT_VERIFIED = "会社情報の確認が完了するまで、共同企業体は登録できません。"
MSG_JV_NAME_TAKEN = "この名称の共同企業体はすでに登録されています。"


def register_joint_venture(*, company, by, name, kind, advance_deposit, own_share, members):
    """The representative's clerk registers a 共同企業体: `company` is its 代表者 with
    `own_share`; `members` the other members as [(corporate_number, share)] in the order
    typed (form rows 1, 2, …). Every member must be a verified company on esure, and the
    出資比率 add up to exactly 100 (validators.check_share_total). Errors name the row:
    member_<n>_number / member_<n>_share, or own_share for the total."""
    if not Membership.objects.filter(user=by, company=company).exists():
        raise PermissionDenied(MSG_NOT_ALLOWED)
    company = Company.objects.get(pk=company.pk)  # its status now, not as the caller read it
    if not company.is_verified:
        raise ValidationError(MSG_JV_NOT_VERIFIED)
    errors = {}
    rows = []
    seen = {company.pk}
    for n, (number, share) in enumerate(members, start=1):
        field = f"member_{n}_number"
        member = Company.objects.filter(corporate_number=number).first()
        if member is None:
            errors[field] = MSG_JV_MEMBER_UNKNOWN.format(number=number)
        elif member.pk == company.pk:
            errors[field] = MSG_JV_MEMBER_IS_REPRESENTATIVE
        elif member.pk in seen:
            errors[field] = MSG_JV_MEMBER_TWICE
        elif not member.is_verified:
            errors[field] = MSG_JV_MEMBER_NOT_VERIFIED.format(name=member.name)
        else:
            seen.add(member.pk)
            rows.append((member, share))
    if not members:
        errors["member_1_number"] = MSG_JV_NO_MEMBER
    total_problem = validators.check_share_total([own_share, *(s for _, s in members)])
    if total_problem:
        errors["own_share"] = total_problem
    if JointVenture.objects.filter(representative=company, name=name).exists():
        errors["name"] = MSG_JV_NAME_TAKEN
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        jv = JointVenture.objects.create(
            name=name,
            kind=kind,
            representative=company,
            advance_deposit=advance_deposit,
            created_by=by,
        )
        JointVentureMember.objects.create(
            joint_venture=jv, company=company, share=own_share, position=0
        )
        for position, (member, share) in enumerate(rows, start=1):
            JointVentureMember.objects.create(
                joint_venture=jv, company=member, share=share, position=position
            )
        audit.record(
            actor=by,
            action="joint_venture.registered",
            obj=jv,
            data={
                "name": name,
                "kind": kind,
                "members": [[m.corporate_number, str(s)] for m, s in [(company, own_share), *rows]],
            },
        )
    return jv


BRANCH_FIELDS = ("name", "postal_code", "address", "agent_title", "agent_name")


def save_branch(*, company, by, branch=None, **fields):
    """A company administrator registers a branch (支店・営業所) with its 受任者, or edits one.

    Certificates already issued keep what they printed (their content is a snapshot)."""
    _require_admin(company, by)
    values = {name: fields[name] for name in BRANCH_FIELDS}
    with transaction.atomic():
        taken = Branch.objects.filter(company=company, name=values["name"])
        if branch is not None:
            taken = taken.exclude(pk=branch.pk)
        if taken.exists():
            raise ValidationError({"name": MSG_BRANCH_NAME_TAKEN})
        if branch is None:
            branch = Branch.objects.create(company=company, **values)
            action = "branch.created"
        else:
            branch = Branch.objects.select_for_update().get(pk=branch.pk, company=company)
            for name, value in values.items():
                setattr(branch, name, value)
            branch.save()
            action = "branch.changed"
        audit.record(actor=by, action=action, obj=branch, data={"company": company.pk, **values})
    return branch


# --- Bank users (預託金融機関の担当者) ------------------------------------------------------


def check_bank_invitation(email):
    """Refuse an address that already belongs to a bank user or has an open invitation
    (also the admin form's check, so staff see the message beside the field)."""
    if BankMembership.objects.filter(user__email__iexact=email).exists():
        raise ValidationError({"email": MSG_BANK_ALREADY_MEMBER})
    invitations = BankInvitation.objects.filter(email__iexact=email)
    if invitations.filter(accepted_at=None, revoked_at=None).exists():
        raise ValidationError({"email": MSG_BANK_ALREADY_INVITED})


def invite_bank_user(*, branch, email, by):
    """Surety staff invite a bank branch's staff member by e-mail address (no token: the
    invitee signs up or logs in with that address and accepts on HOME)."""
    email = email.strip().lower()
    if not by.is_staff:
        raise PermissionDenied(MSG_NOT_ALLOWED)
    with transaction.atomic():
        check_bank_invitation(email)
        invitation = BankInvitation.objects.create(branch=branch, email=email, invited_by=by)
        audit.record(
            actor=by,
            action="bank_user.invited",
            obj=invitation,
            data={"branch": str(branch), "email": email},
        )
        notifications.bank_user_invited(invitation)
    return invitation


def revoke_bank_invitation(*, invitation, by):
    return _revoke(invitation)


def accept_bank_invitation(*, invitation, user):
    """The invitee (logged in with the invited, verified address) joins the bank branch.

    One person, one role: surety staff, a contractor's clerk or an orderer's office user
    cannot also be a bank user (each access helper answers "who is this" without a choice).
    """
    with transaction.atomic():
        invitation = _accept(invitation, user)
        membership = BankMembership.objects.create(user=user, branch=invitation.branch)
        audit.record(
            actor=user,
            action="bank_user.joined",
            obj=membership,
            data={"branch": str(invitation.branch), "invitation": invitation.pk},
        )
    return membership


# --- Orderer office users (発注機関の利用者, decision 0018) ----------------------------------

MSG_OFFICE_ALREADY_INVITED = "このメールアドレスはすでに発注機関の利用者として招待済みです。"
MSG_OFFICE_ALREADY_MEMBER = "このメールアドレスの利用者はすでに発注機関の利用者です。"
MSG_OFFICE_OF_ORDERER = "発注機関は、貴団体の発注機関から選んでください。"
MSG_CANNOT_REMOVE_SELF = "ご自身を削除することはできません。別の管理者に依頼してください。"


def _check_office_admin(by, orderer):
    """Surety staff, or a 管理者 of one of the orderer's offices; anyone else is refused."""
    if by.is_staff:
        return
    membership = OfficeMembership.objects.select_related("office").filter(user=by).first()
    if membership is None or not membership.is_admin or membership.office.orderer_id != orderer.pk:
        raise PermissionDenied(MSG_NOT_ALLOWED)


def check_office_invitation(email):
    """Refuse an address that already belongs to an office user or has an open invitation."""
    if OfficeMembership.objects.filter(user__email__iexact=email).exists():
        raise ValidationError({"email": MSG_OFFICE_ALREADY_MEMBER})
    invitations = OfficeInvitation.objects.filter(email__iexact=email)
    if invitations.filter(accepted_at=None, revoked_at=None).exists():
        raise ValidationError({"email": MSG_OFFICE_ALREADY_INVITED})


def invite_office_user(*, office, email, by):
    """An orderer's 管理者 (or surety staff) invites a colleague to one of its offices by
    e-mail address (no token: the invitee signs up or logs in with it and accepts on HOME)."""
    email = email.strip().lower()
    _check_office_admin(by, office.orderer)
    with transaction.atomic():
        check_office_invitation(email)
        invitation = OfficeInvitation.objects.create(office=office, email=email, invited_by=by)
        audit.record(
            actor=by,
            action="office_user.invited",
            obj=invitation,
            data={"office": office.pk, "email": email},
        )
        notifications.office_user_invited(invitation)
    return invitation


def revoke_office_invitation(*, invitation, by):
    _check_office_admin(by, invitation.office.orderer)
    return _revoke(invitation)


def accept_office_invitation(*, invitation, user):
    """The invitee (logged in with the invited, verified address) joins the office as a
    担当者. One person, one role, as for bank users."""
    with transaction.atomic():
        invitation = _accept(invitation, user)
        membership = OfficeMembership.objects.create(user=user, office=invitation.office)
        audit.record(
            actor=user,
            action="office_user.joined",
            obj=membership,
            data={"office": invitation.office_id, "invitation": invitation.pk},
        )
    return membership


def assign_office(*, membership, office, by):
    """A 管理者 moves a colleague to another office (課・担当) of the same orderer."""
    _check_office_admin(by, membership.office.orderer)
    if office.orderer_id != membership.office.orderer_id:
        raise ValidationError(MSG_OFFICE_OF_ORDERER)
    with transaction.atomic():
        old = membership.office_id
        OfficeMembership.objects.filter(pk=membership.pk).update(office=office)
        audit.record(
            actor=by,
            action="office_user.assigned",
            obj=membership,
            data={"from": old, "to": office.pk},
        )
    membership.office = office
    return membership


def remove_office_user(*, membership, by):
    """A 管理者 removes a colleague: their account stays (its history names them), their
    access to the orderer's offices ends at once."""
    _check_office_admin(by, membership.office.orderer)
    if membership.user_id == by.pk:
        raise ValidationError(MSG_CANNOT_REMOVE_SELF)
    with transaction.atomic():
        audit.record(
            actor=by,
            action="office_user.removed",
            object_type="accounts.officemembership",
            object_id=membership.pk,
            data={"user": membership.user_id, "office": membership.office_id},
        )
        OfficeMembership.objects.filter(pk=membership.pk).delete()
