import datetime

from django import forms
from django.utils import timezone

from api.webhooks import EVENT_TYPES
from esure.forms import HELP_DAY, DayField

MSG_EXPIRES_PAST = "有効期限は明日以降の日付を入力してください。"


class TokenForm(forms.Form):
    """A new API token: a name the office recognises it by, and an optional last day."""

    name = forms.CharField(
        label="名前（用途）",
        max_length=100,
        help_text="例: 財務会計システム（本番）",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    expires_on = DayField(
        label="有効期限（任意）",
        required=False,
        help_text=f"この日の終わりまで使えます。空欄なら失効させるまで使えます。{HELP_DAY}",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_expires_on(self):
        day = self.cleaned_data["expires_on"]
        if day is not None and day <= timezone.localdate():
            raise forms.ValidationError(MSG_EXPIRES_PAST)
        return day

    def expires_at(self):
        """The end of the chosen day in Tokyo (the first moment of the next), or None."""
        day = self.cleaned_data["expires_on"]
        if day is None:
            return None
        next_day = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time())
        return timezone.make_aware(next_day)


class WebhookForm(forms.Form):
    url = forms.URLField(
        label="送信先URL",
        max_length=500,
        assume_scheme="https",
        help_text="https:// で始まる、インターネットから届くURL。",
        widget=forms.URLInput(attrs={"autocomplete": "off", "placeholder": "https://"}),
    )
    events = forms.MultipleChoiceField(
        label="送信するイベント",
        choices=list(EVENT_TYPES.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "送信するイベントを1つ以上選んでください。"},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
