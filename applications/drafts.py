"""What every application form shares (menus 1–3 and changes): saving what was typed as a
draft (保存中) and, when the clerk pressed 申込む, submitting it — with the messages the
clerk reads after it —, and the answer of the live check as the clerk types."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render

from accounts.forms import add_service_errors
from applications import fees, services, validation

MSG_SAVED = "保存しました（保存中）。内容がそろったら「申込む」を押してください。"
MSG_SUBMITTED = "お申込みを受け付けました（手続き中）。保証会社の審査をお待ちください。"
MSG_SAVED_NOT_SUBMITTED = (
    "入力内容を保存しましたが、まだお申込みできません。各項目のメッセージをご確認ください。"
)
MSG_ALREADY_SUBMITTED = "このお申込みはすでに提出されています。"


def save_and_submit(request, form, *, page, work=None, application=None):
    """Save the valid `form` as a draft; with action=submit, submit it too. Returns the
    response: a redirect, or `page(form, application, status)` — the form again, with the
    services' messages beside its fields."""
    try:
        application = services.save_draft(
            company=request.membership.company,
            menu=form.menu,
            by=request.user,
            work=work,
            application=application,
            work_values=form.work_values(),
            application_values=form.application_values(),
            amounts=form.amounts(),
            client_token=form.cleaned_data.get("client_token"),
        )
    except ValidationError as error:
        if getattr(error, "code", None) == "not_editable":
            messages.info(request, MSG_ALREADY_SUBMITTED)
            return redirect("applications:detail", error.params["pk"])
        add_service_errors(form, error)
        return page(form, application, 400)
    if request.POST.get("action") != "submit":
        messages.success(request, MSG_SAVED)
        return redirect("applications:edit", application.pk)
    try:
        services.submit_application(application=application, by=request.user)
    except PermissionDenied as error:
        # A 申込担当 pressed 申込む: the draft is saved; a 承認者 sends it.
        return render(request, "403.html", {"exception": str(error)}, status=403)
    except services.TransitionError:
        messages.info(request, MSG_ALREADY_SUBMITTED)
        return redirect("applications:detail", application.pk)
    except ValidationError as error:
        add_service_errors(form, error)
        messages.warning(request, MSG_SAVED_NOT_SUBMITTED)
        return page(form, application, 400)
    messages.success(request, MSG_SUBMITTED)
    return redirect("applications:detail", application.pk)


def check_answer(errors, work=None, amounts=None):
    """The live check's answer: the messages per field; with the work and the amounts (the
    form was readable), the limits, the fee estimates and why 電子交付 is refused."""
    if work is None:
        errors = {name: list(messages_) for name, messages_ in errors.items()}
        return {"errors": errors, "limits": {}, "fees": {}, "delivery_refusal": None}
    quotes = [fees.quote(kind, amount) for kind, amount in amounts.items()]
    return {
        "errors": errors,
        "limits": validation.limits(work),
        "fees": {q.kind: {"fee": q.fee, "is_demo": q.is_demo} for q in quotes if q},
        "delivery_refusal": validation.delivery_refusal(work, list(amounts)),
    }
