"""電子証書の確認: the contractor's view of its concluded guarantees (same login).

The pages read the registry (certificates); every object goes through the access helper
get_guarantee_for(company, number): another company's guarantee is a 404.
"""

from django.http import FileResponse, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.decorators import member_required
from certificates import pdf
from certificates import selectors as registry
from certificates import services as registry_services
from certificates.models import Document, KeyDisplay


def _no_store(response):
    """Pages and files that carry the key are never cached anywhere."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@member_required
def index(request):
    guarantees = registry.guarantees_of(request.membership.company)
    return render(request, "certs/index.html", {"guarantees": guarantees})


@member_required
def detail(request, number):
    guarantee = registry.get_guarantee_for(request.membership.company, number)
    versions = registry.versions_of(guarantee)
    current = versions[-1]
    context = {
        "guarantee": guarantee,
        "versions": versions,
        "current": current,
        "status": registry.status_of_guarantee(guarantee, current),
        "key_shown": KeyDisplay.objects.filter(guarantee=guarantee).order_by("-at").first(),
    }
    context.update(pdf.certificate_context(current))
    return render(request, "certs/detail.html", context)


@require_POST
@member_required
def show_key(request, number):
    """認証キーの表示: shows the key once per request, records who saw it (not the key)."""
    guarantee = registry.get_guarantee_for(request.membership.company, number)
    if not guarantee.has_key:
        return render(request, "certs/no_key.html", {"guarantee": guarantee}, status=404)
    registry_services.record_key_display(
        guarantee=guarantee, user=request.user, via=KeyDisplay.Via.SCREEN
    )
    context = {"guarantee": guarantee, "key": registry_services.current_key(guarantee)}
    return _no_store(render(request, "certs/key.html", context))


@never_cache
@member_required
def key_notice(request, number):
    """「電子証書閲覧用『認証キー』等のお知らせ」 PDF, rendered on demand."""
    guarantee = registry.get_guarantee_for(request.membership.company, number)
    if not guarantee.has_key:
        return render(request, "certs/no_key.html", {"guarantee": guarantee}, status=404)
    current = registry.versions_of(guarantee)[-1]
    office = registry.submission_office(guarantee)
    data = pdf.render_key_notice(
        guarantee=guarantee,
        certificate=current,
        key=registry_services.current_key(guarantee),
        orderer=guarantee.orderer,
        office=office,
        channels=[c.label for c in guarantee.orderer.channels_for(guarantee.kind)],
        today=timezone.localdate(),
    )
    registry_services.record_key_display(
        guarantee=guarantee, user=request.user, via=KeyDisplay.Via.KEY_NOTICE
    )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="key-notice-{guarantee.number_display}.pdf"'
    )
    return _no_store(response)


@member_required
def document(request, number, version, kind):
    """A stored PDF (保証証書, お客様控え, 保証料計算書) of one version: the original bytes."""
    if kind not in Document.Kind.values:
        return HttpResponse(status=404)
    guarantee = registry.get_guarantee_for(request.membership.company, number)
    doc = registry.get_document(guarantee, version, kind)
    filename = f"{guarantee.number_display}-v{version}-{kind}.pdf"
    return FileResponse(doc.file.open("rb"), content_type="application/pdf", filename=filename)
