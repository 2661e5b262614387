from django import forms


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
        widget=forms.TextInput(
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
