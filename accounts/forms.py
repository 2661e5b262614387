from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator

from accounts import validators
from accounts.models import Branch, Company, JointVenture

TYPED_IDENTIFIER_LENGTH = 40


class CompanyRegistrationForm(forms.ModelForm):
    """会社情報の登録. Identifiers accept full-width digits and any dash; stored canonical."""

    class Meta:
        model = Company
        fields = [
            "corporate_number",
            "name",
            "name_kana",
            "representative_title",
            "representative_name",
            "postal_code",
            "address",
            "phone",
            "license_number",
        ]
        widgets = {
            "corporate_number": forms.TextInput(
                attrs={
                    "inputmode": "numeric",
                    "autocomplete": "off",
                    "placeholder": "1234567890123",
                }
            ),
            "name": forms.TextInput(attrs={"autocomplete": "organization"}),
            "name_kana": forms.TextInput(attrs={"placeholder": "カブシキガイシャツクミケンセツ"}),
            "representative_title": forms.TextInput(attrs={"placeholder": "代表取締役"}),
            "postal_code": forms.TextInput(
                attrs={"autocomplete": "postal-code", "placeholder": "879-2435"}
            ),
            "address": forms.TextInput(attrs={"autocomplete": "street-address"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "placeholder": "0972-82-9511"}),
            "license_number": forms.TextInput(
                attrs={"placeholder": "大分県知事許可(般-6)第12345号"}
            ),
        }
        help_texts = {
            "corporate_number": "13桁。全角・ハイフン入りでも入力できます。",
            "license_number": "例: 大分県知事許可(般-6)第12345号",
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # Japanese labels take no colon
        super().__init__(*args, **kwargs)
        # Typed identifiers may carry dashes, spaces and 〒 beyond the stored length; the
        # clean_* methods below check the canonical value.
        for name in ("corporate_number", "postal_code", "phone"):
            field = self.fields[name]
            field.max_length = TYPED_IDENTIFIER_LENGTH
            field.validators = [
                v for v in field.validators if not isinstance(v, MaxLengthValidator)
            ]
            field.widget.attrs["maxlength"] = str(TYPED_IDENTIFIER_LENGTH)

    def clean_corporate_number(self):
        return validators.clean_corporate_number(self.cleaned_data["corporate_number"])

    def clean_postal_code(self):
        return validators.clean_postal_code(self.cleaned_data["postal_code"])

    def clean_phone(self):
        return validators.clean_phone(self.cleaned_data["phone"])

    def clean_license_number(self):
        return validators.clean_license_number(self.cleaned_data["license_number"])

    def _get_validation_exclusions(self):
        # The service answers a taken 法人番号 with a helpful message (not Django's generic
        # one); its format is checked by clean_corporate_number above.
        return super()._get_validation_exclusions() | {"corporate_number"}


class InvitationForm(forms.Form):
    email = forms.EmailField(label="招待する方のメールアドレス")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class BranchForm(forms.ModelForm):
    """支店・営業所 and its 受任者 (the company's administrator registers and edits them)."""

    class Meta:
        model = Branch
        fields = ["name", "postal_code", "address", "agent_title", "agent_name"]
        widgets = {
            "name": forms.TextInput(attrs={"placeholder": "大分支店"}),
            "postal_code": forms.TextInput(
                attrs={"autocomplete": "postal-code", "placeholder": "870-0000"}
            ),
            "agent_title": forms.TextInput(attrs={"placeholder": "支店長"}),
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["postal_code"].max_length = TYPED_IDENTIFIER_LENGTH
        self.fields["postal_code"].validators = []
        self.fields["postal_code"].widget.attrs["maxlength"] = str(TYPED_IDENTIFIER_LENGTH)

    def clean_postal_code(self):
        value = self.cleaned_data["postal_code"]
        return validators.clean_postal_code(value) if value.strip() else ""

    def _get_validation_exclusions(self):
        # The service checks the name is not taken (with its own message); company is not
        # a form field.
        return super()._get_validation_exclusions() | {"name"}


MEMBER_ROWS = 4  # besides the representative; JVs of more than five companies are rare
MSG_SHARE_FORMAT = "出資比率は0.1から99.9までの数（小数点以下1桁まで）で入力してください。"


def share_field(label, required):
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal("0.1"),
        max_value=Decimal("99.9"),
        decimal_places=1,
        max_digits=3,
        error_messages={
            "invalid": MSG_SHARE_FORMAT,
            "min_value": MSG_SHARE_FORMAT,
            "max_value": MSG_SHARE_FORMAT,
            "max_decimal_places": MSG_SHARE_FORMAT,
            "max_digits": MSG_SHARE_FORMAT,
        },
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )


class JointVentureForm(forms.Form):
    """共同企業体の登録 by the representative's clerk: the JV, the own share and up to
    MEMBER_ROWS other members by 法人番号 and 出資比率."""

    name = forms.CharField(
        label="共同企業体の名称",
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "津久見・デモ特定建設工事共同企業体"}),
    )
    kind = forms.ChoiceField(
        label="種類", choices=JointVenture.Kind.choices, widget=forms.RadioSelect
    )
    advance_deposit = forms.ChoiceField(
        label="前払金の預託方法（前払金保証の場合）",
        choices=JointVenture.AdvanceDeposit.choices,
        widget=forms.RadioSelect,
        initial=JointVenture.AdvanceDeposit.REPRESENTATIVE,
    )
    own_share = share_field("代表者（貴社）の出資比率（%）", required=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for n in range(1, MEMBER_ROWS + 1):
            self.fields[f"member_{n}_number"] = forms.CharField(
                label=f"構成員{n}の法人番号",
                required=False,
                max_length=TYPED_IDENTIFIER_LENGTH,
                widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
            )
            self.fields[f"member_{n}_share"] = share_field(f"構成員{n}の出資比率（%）", False)

    def member_rows(self):
        """The bound fields row by row, for the template."""
        return [
            (self[f"member_{n}_number"], self[f"member_{n}_share"])
            for n in range(1, MEMBER_ROWS + 1)
        ]

    def clean(self):
        data = super().clean()
        for n in range(1, MEMBER_ROWS + 1):
            number, share = f"member_{n}_number", f"member_{n}_share"
            if data.get(number):
                try:
                    data[number] = validators.clean_corporate_number(data[number])
                except ValidationError as error:
                    self.add_error(number, error)
                    continue
                if data.get(share) is None and share not in self.errors:
                    self.add_error(share, "出資比率を入力してください。")
            elif data.get(share) is not None:
                self.add_error(number, "法人番号を入力してください。")
        return data

    def members(self):
        """[(corporate_number, share)] of the filled rows, in order."""
        data = self.cleaned_data
        return [
            (data[f"member_{n}_number"], data[f"member_{n}_share"])
            for n in range(1, MEMBER_ROWS + 1)
            if data.get(f"member_{n}_number")
        ]


def add_service_errors(form, error: ValidationError):
    """Show a service's ValidationError next to the fields it names (or at the top)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)
