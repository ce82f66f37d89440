"""Shared test settings: plain static storage (no collectstatic manifest needed in tests), an empty cache."""

import pytest


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: tests roll their transactions back, so the data version
    (moved on only after a commit) does not change between them and cannot tell their data apart."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
