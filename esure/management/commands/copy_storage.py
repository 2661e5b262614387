"""Copy every stored file between the default storage (the local disk or the bucket, as
configured) and a directory: the restore drill's backup and restore of the documents, the
same for either backend (docs/operations.md).

    python manage.py copy_storage --to DIR      every file of the storage into DIR
    python manage.py copy_storage --from DIR    every file of DIR into the storage

Names are kept (`documents/2026/11/…pdf`). Nothing is ever overwritten: copying into the
storage a name it already holds keeps the stored object and counts it as kept (the originals
are immutable); copying out refuses a DIR that is not empty. /readyz's probes are skipped.
Prints "copied N files (B bytes)[, kept K]".
"""

import shutil
from pathlib import Path, PurePosixPath

from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

SKIPPED = {"readyz"}  # /readyz's write probes, deleted at once; a left-over is not data


def stored_names(storage, folder=""):
    """Every file name in the storage, recursively (sorted per folder)."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:  # an empty local storage has no MEDIA_ROOT yet
        return
    for name in sorted(files):
        yield str(PurePosixPath(folder, name)) if folder else name
    for sub in sorted(folders):
        if not folder and sub in SKIPPED:
            continue
        yield from stored_names(storage, f"{folder}/{sub}" if folder else sub)


class Command(BaseCommand):
    help = "Copies every stored file into a directory (--to) or from one into storage (--from)."

    def add_arguments(self, parser):
        direction = parser.add_mutually_exclusive_group(required=True)
        direction.add_argument("--to", type=Path, help="directory to copy the stored files into")
        direction.add_argument("--from", dest="source", type=Path, help="directory to store")

    def handle(self, *args, to=None, source=None, **options):
        if to is not None:
            copied, size = self.copy_out(to)
            self.stdout.write(f"copied {copied} files ({size:,} bytes)")
        else:
            copied, size, kept = self.copy_in(source)
            self.stdout.write(f"copied {copied} files ({size:,} bytes), kept {kept}")

    def copy_out(self, directory):
        directory.mkdir(parents=True, exist_ok=True)
        if any(directory.iterdir()):
            raise CommandError(f"{directory} is not empty")
        copied = size = 0
        for name in stored_names(default_storage):
            target = directory / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with default_storage.open(name, "rb") as stored, target.open("wb") as out:
                shutil.copyfileobj(stored, out, 1024 * 1024)
            copied += 1
            size += target.stat().st_size
        return copied, size

    def copy_in(self, directory):
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory")
        copied = size = kept = 0
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            name = path.relative_to(directory).as_posix()
            if default_storage.exists(name):
                kept += 1
                continue
            with path.open("rb") as handle:
                saved = default_storage.save(name, File(handle, name=name))
            if saved != name:
                raise CommandError(f"{name} was stored as {saved}")
            copied += 1
            size += path.stat().st_size
        return copied, size, kept
