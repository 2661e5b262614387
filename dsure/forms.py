import re
import unicodedata

from django import forms

from certificates.selectors import Status
from certificates.verification import MAX_BYTES
from esure.choices import GuaranteeKind
from esure.forms import DayField

TOO_LARGE = "ファイルが大きすぎます（5 MB まで）。"
NOT_A_PDF = "PDF ファイルを選んでください。"
BAD_FINGERPRINT = "内容の指紋は 64 桁の英数字（0〜9 と a〜f）で入力してください。"


class UnechoedTextInput(forms.TextInput):
    """A text box that never renders a submitted value back into the page: the 認証キー is shown
    as it is typed, but a refused form (an empty 保証契約番号, say) comes back without it."""

    def get_context(self, name, value, attrs):
        return super().get_context(name, None, attrs)


class LookupForm(forms.Form):
    """保証契約番号 + 認証キー as city staff type them from paper: any width, case, spaces or
    dash. Lengths are bounded so that pasted junk is refused before any work."""

    number = forms.CharField(
        label="保証契約番号",
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "inputmode": "numeric", "placeholder": "06-1-0001234-9"}
        ),
    )
    key = forms.CharField(
        label="認証キー",
        max_length=40,
        strip=True,
        widget=UnechoedTextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "placeholder": "XXXX-XXXX-XXXX-XXXX",
            }
        ),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class ReceiptForm(forms.Form):
    note = forms.CharField(label="メモ（任意）", required=False, max_length=500)


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label="返戻の理由",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "例: 工事番号が契約書と異なる"}),
        error_messages={"required": "返戻の理由を入力してください。"},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class CompletionForm(forms.Form):
    """完成 as the office records it: the day of the 完成検査 / 引渡し and an optional memo."""

    completed_on = DayField(
        label="完成日（完成検査・引渡しの日）",
        error_messages={"required": "完成日を入力してください。"},
    )
    note = forms.CharField(
        label="メモ（任意。例: 完成検査調書の番号）", required=False, max_length=1000
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        # Its own ids: the 受領 form on the same page has a `note` too.
        kwargs.setdefault("auto_id", "id_completion_%s")
        super().__init__(*args, **kwargs)


class RefundReturnForm(forms.Form):
    """前払金の返還 received: the day the contractor paid the excess back, and a memo. One per
    refund on the page, so each carries the refund's prefix."""

    returned_on = DayField(
        label="返還日（受領した日）", error_messages={"required": "返還日を入力してください。"}
    )
    note = forms.CharField(label="メモ（任意。例: 収入調定番号）", required=False, max_length=1000)

    def __init__(self, *args, refund, **kwargs):
        kwargs.setdefault("label_suffix", "")
        kwargs["prefix"] = f"refund{refund.pk}"
        super().__init__(*args, **kwargs)


# The status filter's values in the URL (?status=valid) and the registry's Status they mean.
STATUS_CODES = {code: status for status, code in Status.CODES.items()}


class OfficeListForm(forms.Form):
    """The office list's filters, search and sort (GET): an invalid value filters nothing and
    is shown next to its field."""

    q = forms.CharField(
        label="検索（工事番号・工事名・保証契約番号・受注者）", max_length=100, required=False
    )
    kind = forms.ChoiceField(
        label="保証の種類", choices=[("", "すべて"), *GuaranteeKind.choices], required=False
    )
    status = forms.ChoiceField(
        label="状態",
        choices=[("", "すべて"), *((code, label) for code, label in STATUS_CODES.items())],
        required=False,
    )
    ending_within = forms.IntegerField(
        label="保証期限（工期末）まで（日以内）",
        min_value=0,
        max_value=3650,
        required=False,
        error_messages={
            "invalid": "日数は半角数字で入力してください。",
            "min_value": "日数は0以上で入力してください。",
            "max_value": "日数は3650以下で入力してください。",
        },
    )
    unreceived = forms.BooleanField(label="未受領のみ", required=False)
    returned = forms.BooleanField(label="返戻のみ", required=False)
    sort = forms.ChoiceField(
        label="並び順",
        choices=[
            ("new", "提出の新しい順"),
            ("number", "保証契約番号順"),
            ("ends", "保証期限の近い順"),
            ("amount", "保証金額の大きい順"),
            ("work_number", "工事番号順"),
        ],
        required=False,
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def filters(self):
        """The registry's office_list arguments from the valid fields (invalid ones: none)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "q": (data.get("q") or "").strip(),
            "kind": data.get("kind") or "",
            "status": STATUS_CODES.get(data.get("status") or "", ""),
            "ending_within": data.get("ending_within"),
            "unreceived": bool(data.get("unreceived")),
            "returned": bool(data.get("returned")),
            "sort": data.get("sort") or "new",
        }


class OfficeInviteForm(forms.Form):
    """A 管理者 invites a colleague to one of the orderer's offices."""

    email = forms.EmailField(
        label="メールアドレス",
        error_messages={
            "required": "メールアドレスを入力してください。",
            "invalid": "メールアドレスの形式で入力してください。",
        },
    )
    office = forms.ModelChoiceField(
        label="発注機関・担当課",
        queryset=None,
        empty_label=None,
        error_messages={"invalid_choice": "発注機関・担当課を一覧から選んでください。"},
    )

    def __init__(self, *args, orderer, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = orderer.offices.order_by("pk")


class AssignOfficeForm(forms.Form):
    office = forms.ModelChoiceField(label="担当課", queryset=None, empty_label=None)

    def __init__(self, *args, orderer, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = orderer.offices.order_by("pk")


class CheckForm(forms.Form):
    """電子証書の検証: one PDF of at most 5 MB (certificates.verification.MAX_BYTES)."""

    file = forms.FileField(
        label="確認する PDF ファイル（5 MB まで）",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(TOO_LARGE)
        upload.seek(0)
        if b"%PDF-" not in upload.read(1024):
            raise forms.ValidationError(NOT_A_PDF)
        upload.seek(0)
        return upload


def normalize_fingerprint(text):
    """A typed fingerprint as printed (groups of eight, any width, case, spaces or dashes) →
    64 lower-case hex digits, or "" when it is not one."""
    text = re.sub(r"[\s\-‐‑–—−ー－ｰ]", "", unicodedata.normalize("NFKC", text or "")).lower()
    return text if re.fullmatch(r"[0-9a-f]{64}", text) else ""


class FingerprintForm(forms.Form):
    """The printed 内容の指紋 (SHA-256 of the content) typed from a printout."""

    fingerprint = forms.CharField(
        label="内容の指紋（SHA-256）",
        max_length=120,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "class": "mono"}
        ),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_fingerprint(self):
        fingerprint = normalize_fingerprint(self.cleaned_data["fingerprint"])
        if not fingerprint:
            raise forms.ValidationError(BAD_FINGERPRINT)
        return fingerprint
