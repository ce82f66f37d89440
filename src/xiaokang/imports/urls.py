from django.urls import path

from . import views

urlpatterns = [
    path("", views.batch_list, name="import_batch_list"),
    path("upload/", views.upload, name="import_upload"),
    path("template/", views.template_download, name="import_template"),
    path("batches/<int:pk>/", views.batch_detail, name="import_batch_detail"),
    path("batches/<int:pk>/apply/", views.batch_apply, name="import_batch_apply"),
    path("batches/<int:pk>/validate/", views.batch_revalidate, name="import_batch_revalidate"),
    path("batches/<int:pk>/errors/", views.error_report, name="import_batch_errors"),
    path("export/", views.export, name="import_export"),
]
