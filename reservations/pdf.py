"""The 契約保証予約's two printed forms, through the registry's one renderer (WeasyPrint,
IPAex fonts embedded, certificates.pdf.render_pdf) and its eシール:

- 手数料通知書 (the fee notice): issued electronically — the company's members download it
  once the reservation is approved. Rendered on demand from the approved, unchanging row
  (fee, 有効期限, approval time), signed like every PDF esure serves.
- 契約保証予約証書: paper only (the flyer: 「契約保証予約は対象外です」). Only staff render it, to
  print and mail it (書面交付); no page of the company offers it.
"""

from django.conf import settings
from django.utils import timezone

from certificates import pdf as registry_pdf
from certificates import seal

FEE_NOTICE_TEMPLATE = "reservations/pdf/fee_notice.html"
CERTIFICATE_TEMPLATE = "reservations/pdf/reservation_certificate.html"


def _context(reservation):
    return {
        "reservation": reservation,
        "company": reservation.company,
        "surety_name": settings.ESURE_SURETY_NAME,
        "approved_on": timezone.localdate(reservation.approved_at),
    }


def render_fee_notice(reservation) -> bytes:
    """手数料通知書 of an approved reservation: signed PDF bytes."""
    return seal.sign_pdf(registry_pdf.render_pdf(FEE_NOTICE_TEMPLATE, _context(reservation)))


def render_reservation_certificate(reservation) -> bytes:
    """契約保証予約証書, for staff to print on paper: signed PDF bytes."""
    return seal.sign_pdf(registry_pdf.render_pdf(CERTIFICATE_TEMPLATE, _context(reservation)))
