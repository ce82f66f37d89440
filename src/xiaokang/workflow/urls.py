from django.urls import path

from . import views

urlpatterns = [
    path("", views.workflow_list, name="workflow_list"),
    path("households/<int:pk>/start/", views.start_exit, name="workflow_start_exit"),
    path("<int:pk>/steps/", views.take_step, name="workflow_step"),
    path("<int:pk>/objections/", views.record_objection, name="workflow_objection"),
    path("objections/<int:pk>/resolve/", views.resolve_objection, name="workflow_objection_resolve"),
    path("changes/", views.change_request_list, name="change_request_list"),
    path("households/<int:pk>/changes/new/", views.change_request_create, name="change_request_create"),
    path("changes/<int:pk>/", views.change_request_detail, name="change_request_detail"),
]
