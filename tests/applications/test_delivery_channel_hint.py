"""Where the application asks for 受取方法, the clerk reads how each kind reaches the chosen
orderer: esure's 受信箱 (no key to hand over) or the key path (decision 0018)."""

import json

from django.urls import reverse

from accounts.models import OrdererSubmissionChannel
from esure.choices import GuaranteeKind, SubmissionChannel
from tests.conftest import deliver_to_inbox, make_orderer


def channel_notes(response):
    html = response.content.decode()
    start = html.index('id="channel-notes"')
    return json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])


def test_the_form_names_each_orderers_channels_per_kind(clerk_client, tsukumi):
    deliver_to_inbox(tsukumi, GuaranteeKind.ADVANCE)
    OrdererSubmissionChannel.objects.create(
        orderer=tsukumi, kind=GuaranteeKind.CONTRACT, channel=SubmissionChannel.CARRY
    )
    key_only = make_orderer("臼杵市")

    response = clerk_client.get(reverse("applications:new", args=["1"]))

    assert response.status_code == 200
    notes = channel_notes(response)
    assert notes[str(tsukumi.pk)] == ("前払金保証：esureの受信箱へ自動で交付 ／ 契約保証：持参")
    assert notes[str(key_only.pk)] == ""
    assert "発注者への提出方法（電子交付の場合）" in response.content.decode()


def test_a_work_of_an_inbox_orderer_shows_its_channels_at_once(clerk_client, clerk, tsukumi):
    from tests.conftest import make_application

    deliver_to_inbox(tsukumi, GuaranteeKind.ADVANCE)
    application = make_application(company=clerk.membership.company)

    response = clerk_client.get(reverse("applications:edit", args=[application.pk]))

    html = response.content.decode()
    assert "<span data-channels-text>前払金保証：esureの受信箱へ自動で交付</span>" in html
