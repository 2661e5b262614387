"""Forms of the money flow. They check formats (a number is a number, an account number
has 7 digits); the rules are advances.rules', checked by the services (and the live check)."""

import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import BankBranch, Company
from advances.models import AccountType, Deposit, EvidenceKind, Funding, WorkKind
from esure.forms import DayField, YenField

MSG_ACCOUNT_NUMBER = "口座番号は7桁の数字で入力してください。"
MSG_CATEGORY_REQUIRED = "区分を選んでください。"


class AccountNumberField(forms.CharField):
    """A 7-digit account number, typed with full-width digits, spaces or dashes too."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)
        self.widget.attrs.update(inputmode="numeric", autocomplete="off")

    def to_python(self, value):
        text = unicodedata.normalize("NFKC", super().to_python(value) or "")
        text = re.sub(r"[\s\-‐‑–—−ー]", "", text)
        if text and not re.fullmatch(r"[0-9]{7}", text):
            raise ValidationError(MSG_ACCOUNT_NUMBER, code="format")
        return text


def branch_choices():
    """Branches of the banks holding a 委託契約, grouped by bank."""
    groups = {}
    branches = BankBranch.objects.filter(bank__entrusted=True).select_related("bank")
    for branch in branches.order_by("bank__code", "code"):
        label = f"{branch.bank.name}（{branch.bank.code}）"
        groups.setdefault(label, []).append((branch.pk, f"{branch.name}（{branch.code}）"))
    return [("", "選択してください"), *groups.items()]


class Form(forms.Form):
    """Japanese labels take no colon (as the other faces' forms)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class AccountForm(Form):
    """前払金専用口座の登録: the designated account and the contractor's own account."""

    branch = forms.TypedChoiceField(label="預託金融機関・支店", coerce=int)
    account_number = AccountNumberField(
        label="口座番号（別口普通預金）", help_text="7桁。例: 1234567"
    )
    holder = forms.CharField(label="口座名義", max_length=100, help_text="通帳に記載の名義（カナ）")
    work_kind = forms.ChoiceField(
        label="業務の種類（前払金の使途の区分）", choices=WorkKind.choices
    )
    overhead_clause = forms.BooleanField(
        label="契約に、前払金を現場管理費・一般管理費等（前払金額の25%まで）に充当できる特約がある",
        required=False,
    )
    own_bank = forms.CharField(label="自社口座の金融機関", max_length=100)
    own_branch = forms.CharField(label="自社口座の支店", max_length=100)
    own_account_type = forms.ChoiceField(label="自社口座の種別", choices=AccountType.choices)
    own_account_number = AccountNumberField(label="自社口座の口座番号")
    own_holder = forms.CharField(label="自社口座の名義", max_length=100)

    def __init__(self, *args, work_kinds, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        if members:
            # A JV deposited split by 出資比率: one account per member (decision 0035).
            self.fields["member"] = forms.ModelChoiceField(
                label="口座の名義となる構成員",
                queryset=Company.objects.filter(pk__in=[c.pk for c in members]),
                empty_label="選択してください",
                help_text="構成員ごとに、その出資比率分の前払金を預託する専用口座を登録します。",
            )
            self.order_fields(["member"])
        self.fields["branch"].choices = branch_choices()
        self.fields["work_kind"].choices = [(k.value, k.label) for k in work_kinds]
        self.fields[
            "own_bank"
        ].help_text = "労務費（直用）、保証料、現場管理費等は、この自社口座へ振り替えます。"

    def clean_branch(self):
        branch = (
            BankBranch.objects.filter(pk=self.cleaned_data["branch"], bank__entrusted=True)
            .select_related("bank")
            .first()
        )
        if branch is None:
            raise ValidationError("一覧から選んでください。")
        return branch


class PlanLineForm(Form):
    """One typed line of the 明細書 (a row of the formset)."""

    key = forms.IntegerField(widget=forms.HiddenInput, required=False)
    category = forms.TypedChoiceField(label="区分", coerce=int, required=False)
    funding = forms.ChoiceField(label="財源", choices=Funding.choices, initial=Funding.ADVANCE)
    description = forms.CharField(label="内容", max_length=200, required=False)
    undecided = forms.BooleanField(label="支払先未定", required=False)
    payee_name = forms.CharField(label="支払先", max_length=200, required=False)
    payee_bank = forms.CharField(label="振込先金融機関", max_length=100, required=False)
    payee_branch = forms.CharField(label="振込先支店", max_length=100, required=False)
    payee_account_type = forms.ChoiceField(
        label="種別", choices=AccountType.choices, required=False
    )
    payee_account_number = AccountNumberField(label="口座番号", required=False)
    payee_holder = forms.CharField(label="口座名義", max_length=100, required=False)
    amount = YenField(label="金額（円）", required=False)

    def __init__(self, *args, categories, intermediate, **kwargs):
        super().__init__(*args, **kwargs)
        self.categories = {c.pk: c for c in categories}
        self.fields["category"].choices = [("", "選択してください")] + [
            (c.pk, c.name) for c in categories
        ]
        if not intermediate:
            self.fields["funding"].choices = [(Funding.ADVANCE, Funding.ADVANCE.label)]

    def clean(self):
        # A row without a category and an amount is left out (that is how a line is
        # removed); an amount without a category is a mistake to point at.
        data = super().clean()
        if not data.get("category") and data.get("amount") and "category" not in self.errors:
            self.add_error("category", MSG_CATEGORY_REQUIRED)
        return data

    def row(self):
        """The line as services.build_lines takes it, or None for an empty row."""
        data = self.cleaned_data
        if not data or not data.get("category"):
            return None
        row = {name: data.get(name) for name in self.fields if name not in ("category", "key")}
        row["category"] = self.categories[data["category"]]
        row["payee_account_type"] = row["payee_account_type"] or ""
        if data.get("key"):
            row["key"] = data["key"]
        return row


class BasePlanLineFormSet(forms.BaseFormSet):
    def rows(self):
        return [row for form in self.forms if (row := form.row()) is not None]


PlanLineFormSet = forms.formset_factory(
    PlanLineForm, formset=BasePlanLineFormSet, extra=3, max_num=100, validate_max=True
)


def plan_formset(data=None, *, categories, intermediate, lines=()):
    initial = [
        {
            "key": line.key,
            "category": line.category_id,
            "funding": line.funding,
            "description": line.description,
            "undecided": line.undecided,
            "payee_name": ""
            if line.undecided or line.category.paid_to_own_account
            else line.payee_name,
            "payee_bank": line.payee_bank,
            "payee_branch": line.payee_branch,
            "payee_account_type": line.payee_account_type,
            "payee_account_number": line.payee_account_number,
            "payee_holder": line.payee_holder,
            "amount": line.amount,
        }
        for line in lines
    ]
    return PlanLineFormSet(
        data,
        initial=initial,
        prefix="lines",
        form_kwargs={"categories": categories, "intermediate": intermediate},
    )


class ReasonForm(Form):
    reason = forms.CharField(
        label="理由", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class WithdrawalForm(Form):
    """A withdrawal: an amount per line of the plan in force (blank = not this time), and
    interest; cash only where the surety allows it (rule 8)."""

    requested_on = DayField(label="払出希望日", required=False)
    interest = YenField(label="利息（明細書の対象外）", required=False)
    cash = forms.BooleanField(label="現金で払い出す（保証会社の承認が必要）", required=False)

    def __init__(self, *args, lines, cash_allowed, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan_lines = list(lines)
        for line in self.plan_lines:
            self.fields[f"line_{line.pk}"] = YenField(label=f"明細{line.key}", required=False)
        if not cash_allowed:
            del self.fields["cash"]

    def line_fields(self):
        return [(line, self[f"line_{line.pk}"]) for line in self.plan_lines]

    def rows(self):
        data = self.cleaned_data
        rows = [
            {"plan_line": line, "amount": data[f"line_{line.pk}"]}
            for line in self.plan_lines
            if data.get(f"line_{line.pk}")
        ]
        if data.get("interest"):
            rows.append({"plan_line": None, "amount": data["interest"]})
        return rows

    def clean(self):
        data = super().clean()
        if not self.errors and not self.rows():
            raise ValidationError("払い出す金額を1つ以上入力してください。")
        return data


class EvidenceForm(Form):
    line = forms.TypedChoiceField(label="明細", coerce=int)
    kind = forms.TypedChoiceField(label="証憑の種類", coerce=int)
    file = forms.FileField(label="ファイル（PDF・JPEG・PNG）")

    def __init__(self, *args, withdrawal, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = {
            line.pk: line
            for line in withdrawal.lines.select_related("plan_line__category")
            if line.plan_line is not None
        }
        self.fields["line"].choices = [
            (pk, f"明細{line.plan_line.key} {line.plan_line.category}")
            for pk, line in self.lines.items()
        ]
        kinds = EvidenceKind.objects.filter(categories__isnull=False).distinct()
        self.kinds = {kind.pk: kind for kind in kinds}
        self.fields["kind"].choices = [(pk, kind.name) for pk, kind in self.kinds.items()]
        self.fields["file"].widget.attrs["accept"] = (
            ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
        )

    def clean_line(self):
        return self.lines[self.cleaned_data["line"]]

    def clean_kind(self):
        return self.kinds[self.cleaned_data["kind"]]


class DepositForm(Form):
    kind = forms.ChoiceField(label="種類", choices=Deposit.Kind.choices)
    received_on = DayField(label="入金日")
    amount = YenField(label="金額（円）")
    reference = forms.CharField(label="取引番号", max_length=50, required=False)


class ExecutionForm(Form):
    executed_on = DayField(label="払出日")
    amount = YenField(label="払出額（円）")
    reference = forms.CharField(label="取引番号", max_length=50, required=False)


class ImportForm(Form):
    file = forms.FileField(label="払出済みの一覧（CSV）")
