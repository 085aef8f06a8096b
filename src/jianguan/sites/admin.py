from django.contrib import admin

from jianguan.core import audit

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

    def save_model(self, request, obj, form, change):
        # The same audit trail as the /sites/limits/ pages: which fields changed, by whom.
        super().save_model(request, obj, form, change)
        changes = {name: str(form.cleaned_data.get(name)) for name in form.changed_data}
        audit.record(request.user, "update" if change else "create", obj, changes=changes, label=f"限值：{obj.name}")

    def has_delete_permission(self, request, obj=None):
        return False  # rules are deactivated, never deleted: alarms and the audit trail refer to them


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
