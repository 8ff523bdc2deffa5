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


@pytest.fixture(autouse=True)
def _fresh_codat_quota():
    # The limiter keeps Codat's quota and any 429 hold in the shared cache (a file or Redis,
    # outliving the test); one test exhausting the sandbox's quota must not hold back the next.
    from integrations.syncs.limits import forget_quota

    forget_quota()
