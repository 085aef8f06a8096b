from django.urls import path

from . import views

app_name = "sites"
urlpatterns = [
    path("alarms/", views.alarm_list, name="alarms"),
    path("alarms/<int:pk>/<str:action>/", views.alarm_action, name="alarm_action"),
]
