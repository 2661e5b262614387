"""System checks of the eシール (decision 0012): production refuses to run without one.

Every manage.py command (migrate included, which the deployment runs before the web and the
worker start) and `check --deploy` run them.
- certificates.E001: no seal (ESURE_SEAL_P12 empty) while DEBUG is off — PDFs would go out
  unsigned. With DEBUG on it is W001: the demo (`make run`) makes one with make_demo_seal.
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


@checks.register()
def seal_configured(app_configs=None, **kwargs):
    if not seal.configured():
        if settings.DEBUG:
            return [
                checks.Warning(
                    "No eシール: the PDFs esure issues are not signed.",
                    hint="Run `manage.py make_demo_seal` (make run does).",
                    id="certificates.W001",
                )
            ]
        return [
            checks.Error(
                "ESURE_SEAL_P12 is not set: esure signs every PDF it issues with the surety "
                "company's eシール and does not run in production without one.",
                hint="Set ESURE_SEAL_P12 and ESURE_SEAL_PASSPHRASE (docs/operations.md).",
                id="certificates.E001",
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
    if seal.configured() and not settings.ESURE_TSA_URL:
        return [
            checks.Warning(
                "ESURE_TSA_URL is not set: signatures carry the signing time only, without a "
                "timestamp, and the long-term validation (PAdES B-LT) cannot be kept up.",
                id="certificates.W003",
            )
        ]
    return []
