"""Shared test settings: plain static storage (no collectstatic manifest needed in tests), an empty cache,
the default language after each test."""

import pytest


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _inline_import_jobs(settings):
    """Web uploads validate and apply in the request (a background process cannot see a test's
    uncommitted data); tests/imports/test_jobs.py covers the process mode."""
    settings.XIAOKANG_IMPORT_JOBS = "inline"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: tests roll their transactions back, so the data version
    (moved on only after a commit) does not change between them and cannot tell their data apart."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language_after():
    """A request with the English cookie leaves English active in the test thread (LocaleMiddleware
    activates it and nothing deactivates it): back to the default after every test, so that the next one
    (a management command, a message it compares) runs in Chinese whatever ran before it."""
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture(scope="session")
def spark_session():
    """One local Spark session for the backend-equivalence tests, or None when pyspark or Java is missing
    (those tests then compare the registry database and DuckDB only). ``make test`` installs pyspark."""
    import shutil

    try:
        import pyspark  # noqa: F401
    except ImportError:
        yield None
        return
    if not shutil.which("java"):
        yield None
        return
    from xiaokang.policy import engine

    session = engine.spark_session("local[2]")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
