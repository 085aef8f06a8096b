from django.contrib import admin

from .models import AuditEvent, Jurisdiction


@admin.register(Jurisdiction)
class JurisdictionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent", "boundary_approximate", "code_confirmed"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "object_type", "object_label", "ip"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_label", "actor_label"]

    def has_change_permission(self, request, obj=None):
        return False  # the audit trail is read-only

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
