from django.contrib import admin

from .models import Alarm, Device, LimitRule


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
