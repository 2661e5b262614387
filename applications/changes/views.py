"""Menu 5 pages: choose the concluded guarantee, fill the change form (live check, draft,
submit). The detail page, menu 4's list, submit and withdraw are the workflow's own
(applications.views), as is the edit URL, which hands a change to edit_page here."""

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.decorators import verified_member_required
from applications import drafts, selectors, validation
from applications.changes import selectors as changes
from applications.changes.forms import ChangeForm
from applications.forms import new_client_token
from certificates import selectors as registry


def _form_page(request, form, *, application=None, status=200):
    guarantee = form.guarantee
    context = {
        "form": form,
        "menu": form.menu,
        "application": application,
        "guarantee": guarantee,
        "terms": registry.current_terms(guarantee),
        "limits": validation.limits(guarantee.work),
    }
    return render(request, "applications/change_form.html", context, status=status)


def _page(request):
    """The form page again, as drafts.save_and_submit asks for it."""
    return lambda form, application, status: _form_page(
        request, form, application=application, status=status
    )


@verified_member_required
def choose_guarantee(request):
    """Menu 5 starts by choosing the concluded guarantee to change."""
    guarantees = changes.changeable_guarantees(request.membership.company)
    return render(request, "applications/choose_guarantee.html", {"guarantees": guarantees})


@verified_member_required
def new_change(request, number):
    """A change (増額, 減額, 保証期限変更, 解約) of one concluded guarantee."""
    company = request.membership.company
    if request.method == "POST":
        # A second POST of this form (after a refused submission, or a double click)
        # continues the change the first one saved.
        saved = selectors.application_by_token(company, request.POST.get("client_token"))
        if saved is not None:
            if saved.menu != ChangeForm.menu:
                raise Http404  # the token of another menu's form: not a change
            return edit_page(request, saved)
    guarantee = changes.get_changeable_guarantee(company, number)
    if request.method == "POST":
        form = ChangeForm(request.POST, guarantee=guarantee)
        if form.is_valid():
            page = _page(request)
            return drafts.save_and_submit(request, form, work=guarantee.work, page=page)
        return _form_page(request, form, status=400)
    form = ChangeForm(initial={"client_token": new_client_token()}, guarantee=guarantee)
    return _form_page(request, form)


def edit_page(request, application):
    """The change form of a saved change application (its applications:edit page)."""
    if not application.is_editable:
        messages.info(request, drafts.MSG_ALREADY_SUBMITTED)
        return redirect("applications:detail", application.pk)
    guarantee = application.guarantee
    if request.method == "POST":
        form = ChangeForm(request.POST, guarantee=guarantee)
        if form.is_valid():
            return drafts.save_and_submit(
                request, form, work=application.work, application=application, page=_page(request)
            )
        return _form_page(request, form, application=application, status=400)
    form = ChangeForm(initial=ChangeForm.initial_for(application), guarantee=guarantee)
    return _form_page(request, form, application=application)


@require_POST
@verified_member_required
def check(request):
    """As the clerk types the change: the rule messages per field, the limits and the fees."""
    company = request.membership.company
    guarantee = registry.get_guarantee_for(company, request.POST.get("guarantee", ""))
    form = ChangeForm(request.POST, guarantee=guarantee)
    if not form.is_valid():
        return JsonResponse(drafts.check_answer(form.errors))
    application = form.unsaved(company)
    amounts = form.amounts()
    errors = validation.application_errors(application, amounts=amounts)
    return JsonResponse(drafts.check_answer(errors, application.work, amounts))
