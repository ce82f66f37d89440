"""Login throttling (django-axes): after 5 failed logins the 6th attempt is refused, even with the right password."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

import sample_data as sample  # tests/sample_data.py (tests/ is on sys.path via its conftest)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Test users need no slow password hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_settings():
    assert settings.AUTHENTICATION_BACKENDS[0].startswith("axes.backends.")
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 30 * 60
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_five_failures_lock_the_sixth_attempt():
    sample.make_user("alice")  # password pw-Secret-123
    c = Client()
    url = reverse("login")
    ok = c.post(url, {"username": "alice", "password": "pw-Secret-123"})
    assert ok.status_code == 302  # the right password works 
    c.post(reverse("logout"))
    for i in range(5):
        response = c.post(url, {"username": "alice", "password": "wrong"})
        # the form is redisplayed with an error; the 5th failure reaches the limit and is answered "locked"
        assert response.status_code == (429 if i == 4 else 200)
    locked = c.post(url, {"username": "alice", "password": "pw-Secret-123"})
    assert locked.status_code == 429
    assert "登录已锁定" in locked.content.decode()
    assert "_auth_user_id" not in c.session
    # another user from the same address is not locked (user name + IP address)
    sample.make_user("bob")
    assert Client().post(url, {"username": "bob", "password": "pw-Secret-123"}).status_code == 302
