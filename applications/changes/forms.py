"""The change form (menu 5): what changes, the new values, the contact. Formats only, as the
application form: completeness and the rules are checked by changes.validation, so that a
draft (保存中) can be saved at any point."""

from django import forms

from applications.models import Application
from certificates import selectors as registry
from esure.forms import DayField, YenField

C = Application.ChangeKind
# The application's own fields that the form edits (the changed guarantee is fixed).
APPLICATION_FIELDS = [
    "change_kind",
    "new_price",
    "change_contract_date",
    "new_end_date",
    "cancel_reason",
    "contact_name",
    "contact_phone",
    "message",
]
# The kinds whose new guaranteed amount the clerk types (the others keep the current one).
AMOUNT_CHANGES = (C.INCREASE, C.DECREASE)


class ChangeForm(forms.Form):
    change_kind = forms.ChoiceField(
        label="変更の内容", choices=C.choices, widget=forms.RadioSelect, required=False
    )
    new_price = YenField(label="変更後の請負代金額（円）", required=False)
    change_contract_date = DayField(label="変更契約日", required=False)
    change_amount = YenField(label="変更後の保証金額（円）", required=False)
    new_end_date = DayField(label="変更後の工期（至）", required=False)
    cancel_reason = forms.CharField(
        label="解約の理由",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "例: 工事中止、契約解除"}),
    )
    contact_name = forms.CharField(label="ご担当者名", max_length=100, required=False)
    contact_phone = forms.CharField(label="ご担当者電話番号", max_length=20, required=False)
    message = forms.CharField(
        label="連絡事項", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    client_token = forms.UUIDField(widget=forms.HiddenInput, required=False)

    menu = Application.Menu.CHANGE

    def __init__(self, *args, guarantee, **kwargs):
        kwargs.setdefault("label_suffix", "")  # Japanese labels take no colon
        super().__init__(*args, **kwargs)
        self.guarantee = guarantee  # the concluded guarantee being changed

    def amounts(self):
        """The one item: the changed guarantee at its new amount (the current one unless
        the kind changes the amount)."""
        data = self.cleaned_data
        if data.get("change_kind") in AMOUNT_CHANGES:
            return {self.guarantee.kind: data.get("change_amount")}
        return {self.guarantee.kind: registry.current_terms(self.guarantee).amount}

    def work_values(self):
        return {}  # the work is the guarantee's, never edited by a change

    def application_values(self):
        values = {name: self.cleaned_data[name] for name in APPLICATION_FIELDS}
        values["change_kind"] = values["change_kind"] or ""
        values["cancel_reason"] = values["cancel_reason"] or ""
        return {**values, "delivery": "", "guarantee": self.guarantee}

    def unsaved(self, company):
        """An unsaved change application as typed, for checking as the clerk types."""
        return Application(
            company=company, work=self.guarantee.work, menu=self.menu, **self.application_values()
        )

    @classmethod
    def initial_for(cls, application):
        """The form's initial values from a saved change application (to edit it)."""
        initial = {name: getattr(application, name) for name in APPLICATION_FIELDS}
        for item in application.items.all():
            initial["change_amount"] = item.amount
        return initial
