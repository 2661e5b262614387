"""The registry's background work: the documents of a conclusion produced after its commit
(decision 0033). Queued in the conclusion's transaction (a django-tasks-db row, so it exists
exactly when the conclusion does), run by `manage.py worker`; a failure is retried with
back-off, and `manage.py produce_missing_documents` catches whatever is still missing.
"""

import datetime
import logging

from django.tasks import task
from django.utils import timezone

logger = logging.getLogger(__name__)

# A seal, TSA or storage outage is the usual cause: retried after 1, 5, 25 and 125 minutes,
# then left to produce_missing_documents (docs/operations.md).
MAX_ATTEMPTS = 5
BACKOFF_MINUTES = 5


@task()
def produce_documents(*, certificate_id, attempt=1):
    """Render, sign and store the お客様控え and 保証料計算書 of one certificate version that
    lacks them (certificates.services.produce_documents: does nothing when they are stored)."""
    from certificates import services
    from certificates.models import Certificate

    certificate = Certificate.objects.select_related("guarantee").get(pk=certificate_id)
    try:
        produced = services.produce_documents(certificate=certificate)
    except Exception as error:
        if attempt >= MAX_ATTEMPTS:
            logger.error(
                "documents of certificate %s failed for good after %s attempts (%s)",
                certificate_id,
                attempt,
                type(error).__name__,
            )
            raise
        delay = datetime.timedelta(minutes=BACKOFF_MINUTES ** (attempt - 1))
        logger.warning(
            "documents of certificate %s: attempt %s failed (%s); retrying in %s",
            certificate_id,
            attempt,
            type(error).__name__,
            delay,
        )
        produce_documents.using(run_after=timezone.now() + delay).enqueue(
            certificate_id=certificate_id, attempt=attempt + 1
        )
        return "retry scheduled"
    return ",".join(produced) or "already stored"
