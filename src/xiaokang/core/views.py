"""View helpers shared by the pages: area scoping through the one mechanism, and optional local assets.

Every page reads scoped data through ``ScopedViewMixin.scoped(Model)`` (or ``scoped_queryset``), i.e.
``Model.objects.for_user(request.user)`` of ``xiaokang.core.scoping``: nothing re-codes the rule.
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.shortcuts import get_object_or_404
from django.templatetags.static import static
from django.utils.translation import gettext as _

ECHARTS = "vendor/echarts/echarts.min.js"
ASSETS = {"css": "xiaokang/xiaokang.css", "dashboard_js": "xiaokang/dashboard.js", "echarts": ECHARTS}


def optional_static(path: str) -> str | None:
    """URL of a local static file, or None when it is not installed (never raises).

    With the manifest storage a missing file raises ValueError in ``{% static %}``; with the plain
    storage a missing file would give a 404 in the browser. Either way the page renders without it
    (the charts need ``make assets`` to have copied ECharts).
    """
    try:
        url = static(path)
    except ValueError:
        return None
    if not isinstance(staticfiles_storage, ManifestFilesMixin):
        try:
            found = staticfiles_storage.exists(path)
        except Exception:  # noqa: BLE001 - no STATIC_ROOT etc.
            found = False
        if not found and not finders.find(path):
            return None
    return url


def asset_urls() -> dict[str, str | None]:
    return {name: optional_static(path) for name, path in ASSETS.items()}


def assets_context(request):
    """Template context processor: the local CSS/JS asset URLs, the user's jurisdiction (the header's 管辖区域)
    on every page, error pages included (looked up only when a page shows it), ``person_pages`` and
    ``language_next`` (where the language switch returns to)."""
    from django.utils.functional import SimpleLazyObject

    from xiaokang.accounts.models import may_see_person_data

    user = getattr(request, "user", None)
    return {"assets": asset_urls(),
            "jurisdiction": SimpleLazyObject(lambda: jurisdiction_label(user) if user is not None else ""),
            # whether the navigation offers person-level pages (not to statisticians and donors)
            "person_pages": user is not None and user.is_authenticated and may_see_person_data(user),
            "language_next": language_next(request)}


def language_next(request) -> str:
    """Where the language switch returns to: this page for a GET; after a POST (a refused form shown again, a
    409) the page the form was sent from (its Referer, when on this site), else the dashboard — never the
    POST-only address, which answers a GET with 405."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    from django.utils.http import url_has_allowed_host_and_scheme

    from django.core.exceptions import DisallowedHost

    referer = request.META.get("HTTP_REFERER", "")
    try:
        host = request.get_host()
    except DisallowedHost:  # the 400 page of a request with a bad Host header: nothing to return to
        return "/"
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={host}, require_https=request.is_secure()):
        return referer
    return "/"


def scoped_queryset(request_or_user, model_or_queryset):
    """Rows of a scoped model the user may see (``for_user`` of ``xiaokang.core.scoping``)."""
    user = getattr(request_or_user, "user", request_or_user)
    qs = model_or_queryset
    if hasattr(qs, "_default_manager"):
        qs = qs._default_manager.all()
    return qs.for_user(user)


def jurisdiction(user):
    """The user's area (Area) or None for a superuser without one (= the whole dataset)."""
    return getattr(user, "area", None) if getattr(user, "area_id", None) else None


def jurisdiction_label(user) -> str:
    if not user.is_authenticated:
        return ""
    area = jurisdiction(user)
    if area is not None:
        return str(area)
    if user.is_superuser:
        return _("全部区域")
    return _("未分配管辖区域")


class ScopedViewMixin(LoginRequiredMixin):
    """Login required; ``scoped(Model)`` gives the rows inside the user's jurisdiction (assets and the
    jurisdiction label reach every template through ``assets_context``)."""

    def scoped(self, model_or_queryset):
        return scoped_queryset(self.request, model_or_queryset)

    def get_scoped_object(self, model_or_queryset, **lookup):
        """One scoped row, or 404 — also for a row that exists outside the user's area."""
        return get_object_or_404(self.scoped(model_or_queryset), **lookup)

class LoginView(auth_views.LoginView):
    """Django's login view (the page's local assets come from ``assets_context``)."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True


def csrf_failure(request, reason=""):
    """A refused CSRF check (``CSRF_FAILURE_VIEW``): JSON ``{"error": "csrf_failed", …}`` (403) on the API
    (``/api/``), the Chinese 403 page elsewhere — never Django's English debug page."""
    from django.http import JsonResponse
    from django.shortcuts import render

    message = _("请求未通过 CSRF 校验（页面已过期或缺少 CSRF 令牌），请刷新页面后重试。")
    if request.path.startswith("/api/"):
        return JsonResponse({"error": "csrf_failed", "message": str(message)}, status=403,
                            json_dumps_params={"ensure_ascii": False})
    return render(request, "403.html", {"exception": message}, status=403)


def healthz(request):
    """Health check for a load balancer or a monitoring probe (健康检查): ``GET /healthz/`` answers
    ``{"status": "ok", "database": "ok", "cache": "ok"}`` (HTTP 200) when the database answers ``SELECT 1``
    and the shared cache stores and returns a value, else HTTP 503 with ``"error"`` for the part that
    failed (the exception's class only: no detail of the configuration). Needs no login and returns no data."""
    from django.db import connection
    from django.http import JsonResponse

    from xiaokang.core.cache import round_trip

    parts = {}
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
        parts["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        parts["database"] = f"error: {type(exc).__name__}"
    problem = round_trip()  # one key per probe: concurrent probes do not read each other's value
    parts["cache"] = f"error: {problem.split(':')[0]}" if problem else "ok"
    ok = all(v == "ok" for v in parts.values())
    response = JsonResponse({"status": "ok" if ok else "error", **parts}, status=200 if ok else 503)
    response["Cache-Control"] = "no-store"
    return response
