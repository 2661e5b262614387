"""A demo eシール for `make run`: a demo root CA and a seal certificate under var/seal/, and
ESURE_SEAL_P12 / ESURE_SEAL_PASSPHRASE added to the demo's env file (var/.env).

Idempotent (a seal already configured is kept); refuses outside DEBUG: a real seal is an
eシール certificate bought from a certification provider (docs/operations.md). The demo has
no time-stamping service: its signatures carry the signing time only.
"""

import datetime
import secrets
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def _name(organisation, common_name):
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_demo_seal(folder: Path, holder: str, passphrase: str) -> tuple[Path, Path]:
    """Write a demo root CA (PEM) and a seal PKCS#12 (key, certificate, chain) for `holder`
    into `folder`; return their paths. RSA 2048 and SHA-256, as eシール certificates are."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root_name = _name("esure demo", "esure Demo Root CA（デモ用・本番では使えません）")
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365 * 20))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .sign(root_key, hashes.SHA256())
    )
    seal_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    seal = (
        x509.CertificateBuilder()
        .subject_name(_name(holder, holder))
        .issuer_name(root_name)
        .public_key(seal_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365 * 5))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .sign(root_key, hashes.SHA256())
    )
    root_path = folder / "demo-root-ca.pem"
    root_path.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    p12_path = folder / "demo-seal.p12"
    p12_path.touch(mode=0o600)
    p12_path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"esure demo seal",
            seal_key,
            seal,
            [root],
            serialization.BestAvailableEncryption(passphrase.encode()),
        )
    )
    p12_path.chmod(0o600)
    return root_path, p12_path


class Command(BaseCommand):
    help = "Creates a demo eシール (root CA + seal certificate under var/seal/) for make run."
    requires_system_checks = []  # its own check (certificates.W001) is what it fixes

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("make_demo_seal is for the local demo only (DEBUG=true).")
        if settings.ESURE_SEAL_P12:
            if not Path(settings.ESURE_SEAL_P12).is_file():
                raise CommandError(
                    f"ESURE_SEAL_P12 names {settings.ESURE_SEAL_P12}, which is missing: remove "
                    "the ESURE_SEAL_* lines from the env file and run this again."
                )
            self.stdout.write(f"eシール already configured: {settings.ESURE_SEAL_P12}")
            return
        env_file = Path(settings.ENV_FILE) if settings.ENV_FILE else None
        if env_file is None or not env_file.is_file():
            raise CommandError("no env file to write the demo seal to (run `make run`).")
        passphrase = secrets.token_urlsafe(24)
        _, p12_path = make_demo_seal(
            settings.VAR_DIR / "seal", settings.ESURE_SURETY_NAME, passphrase
        )
        with env_file.open("a") as f:
            f.write(
                "# The demo eシール (manage.py make_demo_seal): a demo root CA, not a real seal.\n"
                f"ESURE_SEAL_P12={p12_path}\nESURE_SEAL_PASSPHRASE={passphrase}\n"
            )
        self.stdout.write(f"Wrote a demo eシール to {p12_path} and its settings to {env_file}")
