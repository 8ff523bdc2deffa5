import pytest


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # Hashing with PBKDF2 dominates the runtime of tests that log users in.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
