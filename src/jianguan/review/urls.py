"""The review room's pages, under /projects/ beside the projects room's (jianguan/urls.py mounts both)."""

from django.urls import path

from . import views

app_name = "review"
urlpatterns = [
    path("review/", views.queue_page, name="queue"),
    path("<int:pk>/review/", views.workspace_page, name="workspace"),
    path("<int:pk>/review/comments/", views.comment_add, name="comment_add"),
    path("<int:pk>/review/checklist/", views.mark, name="mark"),
    path("<int:pk>/review/opinion/", views.opinion, name="opinion"),
    path("<int:pk>/review/assignee/", views.assign, name="assign"),
    path("<int:pk>/review/sign/", views.sign, name="sign"),
    path("<int:pk>/permit.pdf", views.certificate_pdf, name="certificate"),
    path("<int:pk>/start/", views.start_report, name="start_report"),
    path("review/documents/<int:doc>/verdict/", views.verdict, name="verdict"),
    path("review/documents/<int:doc>/v<int:number>/preview", views.preview_file, name="preview"),
    path("review/comments/<int:comment>/close/", views.comment_close, name="comment_close"),
    path("review/comments/<int:comment>/reply/", views.comment_reply, name="comment_reply"),
    path("review/starts/<int:report>/<str:action>/", views.start_decide, name="start_decide"),
]
