from django.urls import path

from . import correction_views, views

app_name = "projects"
urlpatterns = [
    path("", views.project_list, name="list"),
    path("new/", views.project_create, name="create"),
    path("todo/", views.todo_list, name="todo"),
    path("changes/", correction_views.change_list, name="change_list"),
    path("changes/<int:pk>/<str:action>/", correction_views.change_decide, name="change_decide"),
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/edit/", views.project_edit, name="edit"),
    path("<int:pk>/participants/", views.participant_add, name="participant_add"),
    path("<int:pk>/participants/<int:participant_id>/remove/", correction_views.participant_remove,
         name="participant_remove"),
    path("<int:pk>/participants/<int:participant_id>/replace/", correction_views.participant_replace,
         name="participant_replace"),
    path("<int:pk>/key-people/", views.key_person_add, name="key_person_add"),
    path("<int:pk>/key-people/<int:post_id>/remove/", correction_views.key_person_remove, name="key_person_remove"),
    path("<int:pk>/key-people/<int:post_id>/replace/", correction_views.key_person_replace, name="key_person_replace"),
    path("<int:pk>/pick/participant/", correction_views.pick_participant, name="pick_participant"),
    path("<int:pk>/pick/key-person/", correction_views.pick_key_person, name="pick_key_person"),
    path("<int:pk>/changes/", correction_views.change_request, name="change_request"),
    path("<int:pk>/documents/", views.document_upload, name="document_upload"),
    path("<int:pk>/transition/", views.transition, name="transition"),
    path("<int:pk>/progress/", views.progress_report, name="progress_report"),
    path("documents/<int:doc>/v<int:number>/", views.document_download, name="document_download"),
    path("documents/<int:doc>/versions/", correction_views.document_version, name="document_version"),
    path("documents/<int:doc>/withdraw/", correction_views.document_withdraw, name="document_withdraw"),
]  # fmt: skip
