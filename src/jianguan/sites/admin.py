from django.contrib import admin

from .models import Alarm, CraneOperatorCheck, Device, LimitRule


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "kind", "protocol", "mn", "last_seen_at"]
    list_filter = ["kind", "protocol"]
    search_fields = ["name", "mn"]
    exclude = ["password_hash"]


@admin.register(LimitRule)
class LimitRuleAdmin(admin.ModelAdmin):
    """Regulators edit limits here (per jurisdiction, device kind and time of day)."""

    list_display = [
        "name",
        "parameter",
        "jurisdiction",
        "device_kind",
        "period",
        "warning",
        "critical",
        "confirmed",
        "active",
    ]
    list_filter = ["parameter", "period", "confirmed", "active"]


@admin.register(Alarm)
class AlarmAdmin(admin.ModelAdmin):
    list_display = ["raised_at", "project", "device", "parameter", "severity", "state", "peak_value"]
    list_filter = ["state", "severity", "parameter"]


@admin.register(CraneOperatorCheck)
class CraneOperatorCheckAdmin(admin.ModelAdmin):
    """Written by the crane telemetry (cranes.py): read-only here."""

    list_display = ["device", "ts", "ok", "person", "id_number_masked", "messages"]
    list_filter = ["ok"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
