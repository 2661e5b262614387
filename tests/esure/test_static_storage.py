"""Static files in production (DEBUG off): whitenoise's manifest storage, each file's URL worked
out once per process (esure/staticfiles.py, decision 0043)."""

import json
from unittest import mock

import pytest
from whitenoise.storage import CompressedManifestStaticFilesStorage

from esure.staticfiles import StaticStorage


@pytest.fixture
def storage(tmp_path):
    manifest = {"paths": {"css/esure.css": "css/esure.3c679987c219.css"}, "version": "1.1"}
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    return StaticStorage(location=tmp_path, base_url="/static/")


def test_a_file_s_url_is_its_hashed_name_worked_out_once(storage):
    with mock.patch.object(
        CompressedManifestStaticFilesStorage,
        "url",
        autospec=True,
        side_effect=CompressedManifestStaticFilesStorage.url,
    ) as made:
        urls = [storage.url("css/esure.css") for _ in range(3)]

    assert urls == ["/static/css/esure.3c679987c219.css"] * 3
    assert made.call_count == 1


def test_a_file_not_in_the_manifest_is_still_refused(storage):
    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            storage.url("css/missing.css")


def test_production_settings_use_it():
    from esure import settings

    if settings.DEBUG:
        pytest.skip("DEBUG serves static files from the app folders")
    assert settings.STORAGES["staticfiles"]["BACKEND"] == "esure.staticfiles.StaticStorage"
