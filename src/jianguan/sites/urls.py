from django.urls import path

from . import views

app_name = "sites"
urlpatterns = [
    path("alarms/", views.alarm_list, name="alarms"),
    path("alarms/stream/", views.alarm_stream, name="alarm_stream"),
    path("alarms/export.csv", views.alarm_export, name="alarm_export"),
    path("monitors/", views.monitor_overview, name="monitors"),
    path("alarms/<int:pk>/<str:action>/", views.alarm_action, name="alarm_action"),
    path("projects/<int:project_id>/devices/new/", views.device_create, name="device_create"),
    path("devices/<int:device_id>/command/", views.actuator_command, name="actuator_command"),
    path("devices/<int:device_id>/edit/", views.device_edit, name="device_edit"),
    path("devices/<int:device_id>/readings.csv", views.device_readings_export, name="device_readings_export"),
    path("devices/<int:device_id>/<str:action>/", views.device_service, name="device_service"),
    path("device-changes/", views.device_change_list, name="device_changes"),
    path("device-changes/<int:pk>/<str:action>/", views.device_change_decide, name="device_change_decide"),
    path("limits/", views.limit_list, name="limits"),
    path("limits/new/", views.limit_create, name="limit_create"),
    path("limits/<int:pk>/edit/", views.limit_edit, name="limit_edit"),
    path("limits/<int:pk>/<str:action>/", views.limit_toggle, name="limit_toggle"),
]
