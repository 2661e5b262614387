"""`manage.py verify_pdf FILE…`: the verdict of 「電子証書の検証」 for each file, from the shell.

One block per file: the outcome, who signed and when, the timestamp, the long-term validation
data, and the guarantee version it is with its standing today. Exit 0 when every file is a
valid esure document, 1 when any is not (decision 0016: the one check, certificates.verification).
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from certificates import seal
from certificates.verification import MAX_BYTES, Outcome, Verdict, check_pdf


def _time(value):
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M:%S %Z}"


def describe(verdict: Verdict) -> list[str]:
    """The verdict as lines of text (the command's output)."""
    lines = [f"{'OK' if verdict.ok else 'NG'} {verdict.outcome}: {verdict.message}"]
    if verdict.signer:
        seal_word = "esure の eシール" if verdict.signer_is_seal else "esure の eシールではない"
        lines.append(f"  署名者: {verdict.signer}（{seal_word}）")
    if verdict.signed_at:
        lines.append(f"  署名日時（署名者の申告）: {_time(verdict.signed_at)}")
    if verdict.timestamp_at:
        trusted = "信頼できる" if verdict.timestamp_trusted else "信頼できない"
        lines.append(
            f"  タイムスタンプ: {_time(verdict.timestamp_at)}"
            f"（{verdict.timestamp_authority}、{trusted}）"
        )
    elif verdict.signer:
        lines.append("  タイムスタンプ: なし（署名日時は署名者の申告のみ）")
    if verdict.signer:
        lines.append(f"  長期検証用データ（PAdES B-LT）: {'あり' if verdict.long_term else 'なし'}")
    if verdict.revoked_at:
        lines.append(f"  証明書の失効日時: {_time(verdict.revoked_at)}")
    if verdict.certificate is not None:
        lines.append(
            f"  保証契約番号: {verdict.certificate.guarantee.number_display} "
            f"第{verdict.certificate.version}版 — {verdict.standing}"
        )
        same = "一致（保存された原本と同一）" if verdict.original else "不一致"
        lines.append(f"  原本との照合: {same}")
    lines.extend(f"  {note}" for note in verdict.notes)
    lines.append(f"  SHA-256: {verdict.sha256}" if verdict.sha256 else "")
    return [line for line in lines if line]


class Command(BaseCommand):
    help = "Checks PDF files as 電子証書の検証 does (exit 1 if any is not a valid esure document)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")

    def handle(self, *args, files, **options):
        if not seal.configured():
            raise CommandError("no eシール is configured (ESURE_SEAL_P12): nothing to check with")
        failed = 0
        for name in files:
            path = Path(name)
            self.stdout.write(str(path))
            try:
                with path.open("rb") as f:
                    data = f.read(MAX_BYTES + 1)
            except OSError as error:
                self.stdout.write(f"NG unreadable: {error.strerror}")
                failed += 1
                continue
            verdict = check_pdf(data)
            for line in describe(verdict):
                self.stdout.write(line)
            failed += verdict.outcome != Outcome.VALID
        if failed:
            self.stderr.write(f"{failed} of {len(files)} file(s) failed the check")
            sys.exit(1)
