"""The application form of menus 1–3: one form whose fields depend on the menu (the change
form of menu 5 is applications.changes.forms; the money and date fields are esure.forms').

It checks formats only (a number is a number); completeness and the rules are checked by
applications.validation, so that a draft (保存中) can be saved at any point.
"""

import unicodedata
import uuid

from django import forms

from accounts.models import Branch, JointVenture, Orderer, OrdererOffice
from applications.models import Application
from certificates.models import Work
from esure.choices import ContractMethod, GuaranteeKind, WorkCategory
from esure.forms import DayField, YenField

MSG_PERIOD_ORDER = "工期の終了日は開始日以降の日付を入力してください。"
MSG_PERCENT_FORMAT = "0から100までの数字で入力してください。"

Menu = Application.Menu


class OfficeSelect(forms.Select):
    """Each office option names its orderer (data-orderer), so the page can offer only the
    chosen orderer's offices."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-orderer"] = str(instance.orderer_id)
        return option


WORK_FIELDS = [
    "joint_venture",
    "branch",
    "orderer",
    "office",
    "work_number",
    "name",
    "location",
    "category",
    "contract_method",
    "price",
    "contract_date",
    "contract_date_planned",
    "start_date",
    "end_date",
    "low_bid",
]
APPLICATION_FIELDS = [
    "delivery",
    "terms_confirmed",
    "advance_planned",
    "contact_name",
    "contact_phone",
    "message",
    "certified_on",
    "certification_number",
    "progress_percent",
    "partial_payment_requested",
]
MENU_FIELDS = {
    Menu.ADVANCE_CONTRACT: [
        *WORK_FIELDS,
        "want_advance",
        "advance_amount",
        "want_contract",
        "contract_amount",
        "advance_planned",
    ],
    Menu.ADVANCE_AFTER_CONTRACT: ["advance_amount"],
    Menu.INTERMEDIATE: [
        "intermediate_amount",
        "certified_on",
        "certification_number",
        "progress_percent",
        "partial_payment_requested",
    ],
}
COMMON_FIELDS = [
    "delivery",
    "terms_confirmed",
    "contact_name",
    "contact_phone",
    "message",
    "client_token",
]


class ApplicationForm(forms.Form):
    # 工事請負契約 (menu 1)
    joint_venture = forms.ModelChoiceField(
        label="保証契約者",
        queryset=JointVenture.objects.none(),
        required=False,
        empty_label="貴社単独",
        help_text="共同企業体（貴社が代表者）で契約する場合は選んでください。共同企業体は会社情報の画面で登録します。",
    )
    branch = forms.ModelChoiceField(
        label="契約営業所（受任者）",
        queryset=Branch.objects.none(),
        required=False,
        empty_label="本店（代表者）",
        help_text="保証証書には、選んだ支店・営業所と受任者が保証契約者として記載されます。",
    )
    orderer = forms.ModelChoiceField(
        label="発注者",
        queryset=Orderer.objects.order_by("prefecture", "name"),
        required=False,
        empty_label="選択してください",
    )
    office = forms.ModelChoiceField(
        label="発注機関・担当課",
        queryset=OrdererOffice.objects.select_related("orderer").order_by("orderer", "name"),
        required=False,
        empty_label="選択してください",
        widget=OfficeSelect,
    )
    work_number = forms.CharField(label="工事番号", max_length=50, required=False)
    name = forms.CharField(label="工事名", max_length=200, required=False)
    location = forms.CharField(label="工事場所", max_length=200, required=False)
    category = forms.ChoiceField(
        label="工事の区分",
        choices=WorkCategory.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    contract_method = forms.ChoiceField(
        label="契約方法",
        choices=[("", "選択してください"), *ContractMethod.choices],
        required=False,
    )
    price = YenField(label="請負代金額（円）", required=False)
    contract_date = DayField(label="契約日", required=False)
    contract_date_planned = forms.BooleanField(label="契約日は予定日です", required=False)
    start_date = DayField(label="工期（自）", required=False)
    end_date = DayField(label="工期（至）", required=False)
    low_bid = forms.BooleanField(label="低入札価格調査の対象となった契約です", required=False)
    # 申し込む保証
    want_advance = forms.BooleanField(label="前払金保証を申し込む", required=False)
    advance_amount = YenField(label="前払金保証の保証金額（円）", required=False)
    want_contract = forms.BooleanField(label="契約保証を申し込む", required=False)
    contract_amount = YenField(label="契約保証の保証金額（円）", required=False)
    advance_planned = forms.BooleanField(
        label="前払金を請求する予定です（前払金保証は後日申し込みます）", required=False
    )
    intermediate_amount = YenField(label="中間前払金保証の保証金額（円）", required=False)
    certified_on = DayField(label="中間前金払認定日", required=False)
    certification_number = forms.CharField(
        label="中間前金払認定番号", max_length=50, required=False
    )
    progress_percent = forms.CharField(
        label="既済出来高（%）",
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    partial_payment_requested = forms.BooleanField(
        label="この工事で部分払を請求しています", required=False
    )
    # 受取方法・連絡先
    delivery = forms.ChoiceField(
        label="保証証書の受取方法",
        choices=Application.Delivery.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    terms_confirmed = forms.BooleanField(required=False)
    contact_name = forms.CharField(label="ご担当者名", max_length=100, required=False)
    contact_phone = forms.CharField(label="ご担当者電話番号", max_length=20, required=False)
    message = forms.CharField(
        label="連絡事項", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    client_token = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, menu, company=None, **kwargs):
        kwargs.setdefault("label_suffix", "")  # Japanese labels take no colon
        super().__init__(*args, **kwargs)
        self.menu = menu
        if company is not None:
            self.fields["branch"].queryset = company.branches.all()
            self.fields["joint_venture"].queryset = company.led_joint_ventures.all()
        keep = set(MENU_FIELDS[menu]) | set(COMMON_FIELDS)
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            # Even a draft cannot hold a period that ends before it starts (a DB constraint).
            self.add_error("end_date", MSG_PERIOD_ORDER)
        return data

    def clean_progress_percent(self):
        text = unicodedata.normalize("NFKC", self.cleaned_data["progress_percent"] or "")
        text = text.strip().rstrip("%").strip()
        if not text:
            return None
        if not text.isdigit() or int(text) > 100:
            raise forms.ValidationError(MSG_PERCENT_FORMAT, code="format")
        return int(text)

    def amounts(self):
        """The requested kinds and their amounts (None while empty)."""
        data = self.cleaned_data
        if self.menu == Menu.ADVANCE_CONTRACT:
            chosen = {
                GuaranteeKind.ADVANCE: data.get("want_advance"),
                GuaranteeKind.CONTRACT: data.get("want_contract"),
            }
            return {kind: data.get(f"{kind}_amount") for kind, wanted in chosen.items() if wanted}
        if self.menu == Menu.ADVANCE_AFTER_CONTRACT:
            return {GuaranteeKind.ADVANCE: data.get("advance_amount")}
        return {GuaranteeKind.INTERMEDIATE: data.get("intermediate_amount")}

    def work_values(self):
        if self.menu != Menu.ADVANCE_CONTRACT:
            return {}
        values = {name: self.cleaned_data.get(name) for name in WORK_FIELDS}
        for name in ("work_number", "name", "location", "category", "contract_method"):
            values[name] = values[name] or ""
        return values

    def application_values(self):
        values = {
            name: self.cleaned_data[name] for name in APPLICATION_FIELDS if name in self.fields
        }
        values["delivery"] = values.get("delivery") or ""
        return values

    def unsaved(self, company, work=None):
        """An unsaved Application (and Work) as typed, for checking as the clerk types."""
        work = work or Work(company=company, **self.work_values())
        return Application(company=company, work=work, menu=self.menu, **self.application_values())

    @classmethod
    def initial_for(cls, application):
        """The form's initial values from a saved application (to edit it)."""
        work = application.work
        initial = {name: getattr(work, name) for name in WORK_FIELDS}
        initial.update({name: getattr(application, name) for name in APPLICATION_FIELDS})
        for item in application.items.all():
            initial[f"{item.kind}_amount"] = item.amount
            initial[f"want_{item.kind}"] = True
        return initial


def new_client_token():
    return uuid.uuid4()
