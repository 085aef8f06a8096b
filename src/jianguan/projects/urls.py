from django.urls import path

from . import views

app_name = "projects"
urlpatterns = [
    path("", views.project_list, name="list"),
    path("new/", views.project_create, name="create"),
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/edit/", views.project_edit, name="edit"),
    path("<int:pk>/participants/", views.participant_add, name="participant_add"),
    path("<int:pk>/key-people/", views.key_person_add, name="key_person_add"),
    path("<int:pk>/documents/", views.document_upload, name="document_upload"),
    path("<int:pk>/transition/", views.transition, name="transition"),
    path("<int:pk>/progress/", views.progress_report, name="progress_report"),
    path("documents/<int:doc>/v<int:number>/", views.document_download, name="document_download"),
]
