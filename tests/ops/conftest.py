import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Users are made in nearly every ops test; PBKDF2's deliberate slowness only costs time here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
