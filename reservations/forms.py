"""The clerk's reservation form: formats only; completeness and the 契約保証 rules are the
services' (reservations.rules), so a draft saves at any point."""

from django import forms

from accounts.models import Branch, JointVenture, Orderer
from esure.forms import DayField, YenField
from reservations.services import FIELDS


class ReservationForm(forms.Form):
    joint_venture = forms.ModelChoiceField(
        label="予約者",
        queryset=JointVenture.objects.none(),
        required=False,
        empty_label="貴社単独",
        help_text="共同企業体（貴社が代表者）で入札する場合は選んでください。",
    )
    branch = forms.ModelChoiceField(
        label="契約営業所（受任者）",
        queryset=Branch.objects.none(),
        required=False,
        empty_label="本店（代表者）",
    )
    orderer = forms.ModelChoiceField(
        label="発注者",
        queryset=Orderer.objects.order_by("prefecture", "name"),
        required=False,
        empty_label="選択してください",
    )
    work_name = forms.CharField(label="工事名", max_length=200, required=False)
    bid_date = DayField(label="入札日", required=False)
    estimated_price = YenField(label="請負代金額の見込み（円）", required=False)
    amount = YenField(
        label="予約する保証金額（円）",
        required=False,
        help_text="契約保証の保証金額です。請負代金額の10%以上（発注者の定めによる）が必要です。",
    )
    advance_planned = forms.BooleanField(
        label="前払金の支払いが予定されている工事です（契約保証予約は前払金保証の特約です）",
        required=False,
    )
    contact_name = forms.CharField(label="ご担当者名", max_length=100, required=False)
    contact_phone = forms.CharField(label="ご担当者電話番号", max_length=20, required=False)

    def __init__(self, *args, company, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = company.branches.all()
        self.fields["joint_venture"].queryset = company.led_joint_ventures.all()

    @classmethod
    def initial_for(cls, reservation):
        return {name: getattr(reservation, name) for name in FIELDS}
