"""System checks of the eシール (decision 0012): production refuses to run without one.

Every manage.py command (migrate included, which the deployment runs before the web and the
worker start) and `check --deploy` run them.
- certificates.E001: no seal (ESURE_SEAL_P12 empty) in production — DEBUG off and
  ESURE_HTTPS on, production's one switch (docs/deployment.md) — or in `check --deploy`
  with DEBUG off: PDFs would go out unsigned. Elsewhere (the demo, a developer's shell,
  `makemigrations`) it is W001: `make run` makes a demo seal with make_demo_seal.
- certificates.E002: the seal is configured but cannot be loaded (no file, wrong passphrase,
  no trust root).
- certificates.W002: the PKCS#12 file is readable by others than its owner.
- certificates.W003 (deploy): no time-stamping service (ESURE_TSA_URL).
"""

import stat
from pathlib import Path

from django.conf import settings
from django.core import checks

from certificates import seal

NO_SEAL = checks.Error(
    "ESURE_SEAL_P12 is not set: esure signs every PDF it issues with the surety company's "
    "eシール and does not run in production without one.",
    hint="Set ESURE_SEAL_P12 and ESURE_SEAL_PASSPHRASE (docs/operations.md).",
    id="certificates.E001",
)


def _production():
    return not settings.DEBUG and settings.ESURE_HTTPS


@checks.register()
def seal_configured(app_configs=None, **kwargs):
    if not seal.configured():
        if _production():
            return [NO_SEAL]
        return [
            checks.Warning(
                "No eシール: the PDFs esure issues are not signed.",
                hint="Run `manage.py make_demo_seal` (make run does).",
                id="certificates.W001",
            )
        ]
    try:
        seal.current_seal()
    except seal.SealError as error:
        return [checks.Error(f"The eシール cannot be loaded: {error}", id="certificates.E002")]
    mode = Path(settings.ESURE_SEAL_P12).stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return [
            checks.Warning(
                "The eシール's PKCS#12 file is readable by other users than its owner.",
                hint=f"chmod 600 {settings.ESURE_SEAL_P12}",
                id="certificates.W002",
            )
        ]
    return []


@checks.register(deploy=True)
def timestamp_service(app_configs=None, **kwargs):
    if not seal.configured():
        # check --deploy with DEBUG off is production's rehearsal, whatever ESURE_HTTPS says
        # (the regular check already answers E001 when it is on).
        return [NO_SEAL] if not settings.DEBUG and not _production() else []
    if not settings.ESURE_TSA_URL:
        return [
            checks.Warning(
                "ESURE_TSA_URL is not set: signatures carry the signing time only, without a "
                "timestamp, and the long-term validation (PAdES B-LT) cannot be kept up.",
                id="certificates.W003",
            )
        ]
    return []
