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


# ------------------------------------------------------------------------------------------ session timeout


def test_idle_session_is_signed_out(settings):
    """30 minutes (SESSION_IDLE_SECONDS) without a request: signed out, sent to the login page with a message;
    the last-request time is written at most once a minute."""
    from xiaokang.accounts.middleware import LAST_SEEN

    assert settings.SESSION_IDLE_SECONDS == 30 * 60 and settings.SESSION_COOKIE_AGE == 8 * 3600
    sample.make_user("bob")
    c = Client()
    assert c.post(reverse("login"), {"username": "bob", "password": "pw-Secret-123"}).status_code == 302
    assert c.get(reverse("dashboard")).status_code == 200
    first = c.session[LAST_SEEN]
    session = c.session
    session[LAST_SEEN] = first - 30  # 30 s ago: still active, not rewritten
    session.save()
    assert c.get(reverse("dashboard")).status_code == 200
    assert c.session[LAST_SEEN] == first - 30
    session = c.session
    session[LAST_SEEN] = first - 29 * 60  # 29 minutes ago: still signed in, the time moves on
    session.save()
    assert c.get(reverse("dashboard")).status_code == 200
    assert c.session[LAST_SEEN] >= first
    session = c.session
    session[LAST_SEEN] = first - 31 * 60  # 31 minutes ago: signed out
    session.save()
    r = c.get(reverse("household_list"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in c.session
    page = c.get(r["Location"]).content.decode()
    assert "30 分钟未操作" in page
    assert c.get(reverse("dashboard")).status_code == 302  # still signed out


def test_idle_session_on_the_api_is_401():
    from xiaokang.accounts.middleware import LAST_SEEN

    sample.make_user("carol")
    c = Client()
    assert c.post(reverse("login"), {"username": "carol", "password": "pw-Secret-123"}).status_code == 302
    c.get(reverse("dashboard"))
    session = c.session
    session[LAST_SEEN] -= 31 * 60
    session.save()
    r = c.get("/api/v1/workflows/1/")
    assert r.status_code == 401 and r.json()["error"] == "session_expired"
