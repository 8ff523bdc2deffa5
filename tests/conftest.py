import pytest


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # Hashing with PBKDF2 dominates the runtime of tests that log users in.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_sandbox_background_thread(settings):
    # The sandbox moves syncs on when their status is read, and tests call engine.advance()
    # where they need deliveries; a daemon thread writing the database behind a test's back
    # would only add races (and a second connection to SQLite's shared in-memory test database).
    settings.CODAT_SANDBOX_BACKGROUND = False


@pytest.fixture(autouse=True)
def _sandbox_state_in_tmp(settings, tmp_path):
    # The sandbox gateway's counters and slot files live on disk; each test starts with none.
    settings.CODAT_SANDBOX_STATE_DIR = tmp_path / "codat-sandbox"
