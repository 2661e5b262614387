"""Hand-overs, receipts and office users' views become the registry's submissions (decision
0018): each hand-over a HANDOVER submission of the version current then, each receipt the
受領 of its version (a KEY submission where nothing was handed over), each office user's first
view by key a KEY submission; the guarantee's first view by anyone becomes first_viewed_at."""

from django.db import migrations
from django.db.models import Min

VIEWS = ["success", "handover_view"]


def forward(apps, schema_editor):
    Handover = apps.get_model("dsure", "Handover")
    Receipt = apps.get_model("dsure", "Receipt")
    AccessLog = apps.get_model("dsure", "AccessLog")
    Certificate = apps.get_model("certificates", "Certificate")
    Guarantee = apps.get_model("certificates", "Guarantee")
    Submission = apps.get_model("certificates", "Submission")
    SubmissionEvent = apps.get_model("certificates", "SubmissionEvent")
    OfficeMembership = apps.get_model("accounts", "OfficeMembership")

    def version_at(guarantee_id, at):
        versions = Certificate.objects.filter(guarantee_id=guarantee_id)
        return (
            versions.filter(issued_at__lte=at).order_by("-version").first()
            or versions.order_by("version").first()
        )

    def submission(certificate, office_id, channel, at, by_id, note=""):
        found = Submission.objects.filter(certificate=certificate, office_id=office_id).first()
        if found is not None:
            return found
        created = Submission.objects.create(
            guarantee_id=certificate.guarantee_id,
            certificate=certificate,
            office_id=office_id,
            channel=channel,
            status="delivered",
            delivered_at=at,
            delivered_by_id=by_id,
            note=note,
        )
        SubmissionEvent.objects.create(
            submission=created, old_status="", new_status="delivered", by_id=by_id, at=at, note=note
        )
        return created

    for h in Handover.objects.order_by("at", "pk"):
        certificate = version_at(h.guarantee_id, h.at)
        submission(certificate, h.office_id, "handover", h.at, h.by_id, h.note)

    for r in Receipt.objects.order_by("at", "pk"):
        certificate = Certificate.objects.get(pk=r.certificate_id)
        found = submission(certificate, r.office_id, "key", r.at, r.by_id)
        if found.status == "delivered":
            Submission.objects.filter(pk=found.pk).update(
                status="received", decided_at=r.at, decided_by_id=r.by_id, reason=r.note
            )
            SubmissionEvent.objects.create(
                submission=found,
                old_status="delivered",
                new_status="received",
                by_id=r.by_id,
                at=r.at,
                note=r.note,
            )

    offices = dict(OfficeMembership.objects.values_list("user_id", "office_id"))
    views = (
        AccessLog.objects.filter(
            outcome__in=VIEWS, office_user__isnull=False, guarantee__isnull=False
        )
        .values("guarantee_id", "office_user_id", "guarantee__orderer_id")
        .annotate(first=Min("at"))
    )
    for row in views:
        office_id = offices.get(row["office_user_id"])
        if office_id is None:
            continue
        office_orderer = apps.get_model("accounts", "OrdererOffice").objects.get(pk=office_id)
        if office_orderer.orderer_id != row["guarantee__orderer_id"]:
            continue
        certificate = version_at(row["guarantee_id"], row["first"])
        submission(certificate, office_id, "key", row["first"], row["office_user_id"])
        Submission.objects.filter(
            guarantee_id=row["guarantee_id"], office_id=office_id, viewed_at=None
        ).update(viewed_at=row["first"])

    first_views = (
        AccessLog.objects.filter(outcome__in=VIEWS, guarantee__isnull=False)
        .values("guarantee_id")
        .annotate(first=Min("at"))
    )
    for row in first_views:
        Guarantee.objects.filter(pk=row["guarantee_id"], first_viewed_at=None).update(
            first_viewed_at=row["first"]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_office_notification_and_inbox_channel"),
        ("certificates", "0009_submissions"),
        ("dsure", "0005_japanese_admin_names"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
