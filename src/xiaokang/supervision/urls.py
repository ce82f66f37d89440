from django.urls import path

from . import views

urlpatterns = [
    path("", views.problem_list, name="supervision_problems"),
    path("export/", views.problem_export, name="supervision_export"),
    path("<int:pk>/", views.problem_detail, name="supervision_problem"),
    path("<int:pk>/rectify/", views.problem_rectify, name="supervision_rectify"),
    path("<int:pk>/revisit/", views.problem_revisit, name="supervision_revisit"),
]
