from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from xiaokang.core.views import LoginView, healthz

urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("login/", LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("registry/", include("xiaokang.registry.urls")),
    path("exits/", include("xiaokang.exits.urls")),
    path("workflow/", include("xiaokang.workflow.urls")),
    path("api/v1/", include("xiaokang.workflow.api_urls")),
    path("api/v1/", include("xiaokang.registry.api_urls")),
    path("monitoring/", include("xiaokang.monitoring.urls")),
    path("imports/", include("xiaokang.imports.urls")),
    path("quality/", include("xiaokang.quality.urls")),
    path("supervision/", include("xiaokang.supervision.urls")),
    path("", include("xiaokang.dashboards.urls")),
]
