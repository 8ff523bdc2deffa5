import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Receipts are real files; keep them out of var/media.
    settings.MEDIA_ROOT = tmp_path / "media"
