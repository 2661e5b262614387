from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect

from accounts.selectors import bank_membership_of, membership_of

MSG_REGISTER_FIRST = "はじめに会社情報を登録してください。"
MSG_NOT_VERIFIED = "会社情報の確認が完了するまで、保証のお申込みはできません。"


def member_required(view):
    """Logged in and a member of a company; sets request.membership. Otherwise: register."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.membership = membership_of(request.user)
        if request.membership is None:
            messages.info(request, MSG_REGISTER_FIRST)
            return redirect("accounts:register")
        return view(request, *args, **kwargs)

    return wrapper


def verified_member_required(view):
    """As member_required, and the company has been verified by surety staff."""

    @member_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.membership.company.is_verified:
            messages.warning(request, MSG_NOT_VERIFIED)
            return redirect("home")
        return view(request, *args, **kwargs)

    return wrapper


def bank_member_required(view):
    """Logged in as a bank branch's staff member; sets request.bank_membership (with the
    branch and bank). Anyone else gets a 404: the bank pages do not exist for them."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.bank_membership = bank_membership_of(request.user)
        if request.bank_membership is None:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper
