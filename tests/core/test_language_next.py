"""Where the language switch returns to (``core.views.language_next``)."""


def test_the_language_switch_of_a_bad_host_post_page_does_not_fail():
    """A POST with a Host header not in ALLOWED_HOSTS gets Django's 400 page; its language switch must not ask
    the request for its host again (that raised inside the page: a 500 instead of the 400)."""
    from django.test import RequestFactory

    from xiaokang.core.views import language_next

    request = RequestFactory().post("/registry/households/1/visits/", HTTP_HOST="evil.example",
                                    HTTP_REFERER="http://evil.example/x")
    assert language_next(request) == "/"
    request = RequestFactory().post("/registry/households/1/visits/", HTTP_REFERER="http://testserver/registry/")
    assert language_next(request) == "http://testserver/registry/"
    assert language_next(RequestFactory().get("/registry/?page=2")) == "/registry/?page=2"
