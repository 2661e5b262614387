"""Tests never write into the checkout: the media root of a run is a temporary directory."""

from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


def test_stored_files_land_outside_the_working_tree():
    checkout = Path(settings.BASE_DIR).resolve()
    assert not Path(settings.MEDIA_ROOT).resolve().is_relative_to(checkout)
    name = default_storage.save("probe/where.txt", ContentFile(b"x"))
    try:
        assert not Path(default_storage.path(name)).resolve().is_relative_to(checkout)
    finally:
        default_storage.delete(name)
