"""Forms of a claim. They check formats (an amount is whole yen, full-width digits too; a
date is a date); the rules are claims.rules', checked by the services."""

from django import forms

from certificates.numbering import parse_number
from esure.forms import DayField, YenField

MSG_NUMBER = "保証契約番号を確かめてください（11桁。例: 06-1-0000001-3）。"


class Form(forms.Form):
    """Japanese labels take no colon (as the other faces' forms)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern): a list of uploads."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class NumberForm(Form):
    """請求する保証契約: the number as printed (full-width, any dash)."""

    number = forms.CharField(label="保証契約番号", max_length=40)

    def clean_number(self):
        parsed = parse_number(self.cleaned_data["number"])
        if parsed is None:
            raise forms.ValidationError(MSG_NUMBER)
        return parsed.number


class ClaimForm(Form):
    """保証金の請求: the termination, the figures of the guarantee's kind, the documents."""

    terminated_on = DayField(label="契約解除の日")
    termination_cause = forms.CharField(
        label="契約解除の理由",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="例: 受注者の履行遅滞により、約款第47条に基づき契約を解除した。",
    )
    advance_paid = YenField(label="支払済の前払金", help_text="受注者に支払った前払金の額")
    progress_paid = YenField(
        label="支払済の出来形払（部分払）", allow_zero=True, help_text="支払っていなければ 0"
    )
    completed_value = YenField(
        label="既済部分の代価", allow_zero=True, help_text="出来形検査調書による既済部分の代価"
    )
    penalty = YenField(label="請求する違約金", help_text="約款に定める違約金の額")
    termination_notice = forms.FileField(
        label="契約解除の通知（写し）",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg"}),
    )
    inspection_record = forms.FileField(
        label="出来形検査調書",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg"}),
    )

    ADVANCE_FIELDS = ("advance_paid", "progress_paid", "completed_value", "inspection_record")
    CONTRACT_FIELDS = ("penalty",)

    def __init__(self, *args, kind, **kwargs):
        super().__init__(*args, **kwargs)
        drop = self.CONTRACT_FIELDS if kind == "advance" else self.ADVANCE_FIELDS
        for name in drop:
            del self.fields[name]


class ResubmitForm(Form):
    files = MultipleFileField(label="追加の書類", required=False)
    note = forms.CharField(
        label="保証会社への連絡",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
