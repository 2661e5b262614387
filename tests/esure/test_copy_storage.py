"""`manage.py copy_storage` (the restore drill's backup and restore of the stored files): every
file out of the storage into a directory and back, names kept, nothing ever overwritten, the
same for the local disk and a bucket."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError

FILES = {
    "documents/2026/11/08100000018-v1-certificate.pdf": b"%PDF-1 original",
    "advances/evidence/2026/11/receipt.png": b"\x89PNG original",
}


def copy(**options):
    out = io.StringIO()
    call_command("copy_storage", stdout=out, **options)
    return out.getvalue().strip()


@pytest.fixture
def stored():
    for name, data in FILES.items():
        assert default_storage.save(name, ContentFile(data)) == name
    default_storage.save("readyz/left-over.txt", ContentFile(b"ok"))  # a probe, not data


def read(name):
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def test_out_and_back_keeps_every_name_and_byte(stored, tmp_path, settings):
    assert copy(to=tmp_path / "out") == f"copied 2 files ({sum(map(len, FILES.values()))} bytes)"
    copied = {
        p.relative_to(tmp_path / "out").as_posix(): p.read_bytes()
        for p in (tmp_path / "out").rglob("*")
        if p.is_file()
    }
    assert copied == FILES

    settings.MEDIA_ROOT = tmp_path / "restored"
    assert copy(source=tmp_path / "out").startswith("copied 2 files")
    assert {name: read(name) for name in FILES} == FILES


def test_copying_in_never_overwrites_a_stored_file(stored, tmp_path):
    copy(to=tmp_path / "out")
    (tmp_path / "out" / next(iter(FILES))).write_bytes(b"%PDF-1 damaged copy")
    assert copy(source=tmp_path / "out") == "copied 0 files (0 bytes), kept 2"
    assert read(next(iter(FILES))) == FILES[next(iter(FILES))]


def test_copying_out_refuses_a_directory_that_is_not_empty(stored, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "something").write_text("x")
    with pytest.raises(CommandError, match="is not empty"):
        copy(to=tmp_path / "out")


def test_the_same_with_a_bucket(s3, stored, tmp_path):
    assert copy(to=tmp_path / "out").startswith("copied 2 files")
    assert sorted(s3.objects()) == sorted([*FILES, "readyz/left-over.txt"])
    for name in FILES:
        s3.delete(name)
    assert copy(source=tmp_path / "out") == (
        f"copied 2 files ({sum(map(len, FILES.values()))} bytes), kept 0"
    )
    assert {name: s3.objects()[name] for name in FILES} == FILES
