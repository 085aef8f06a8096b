from django.contrib import admin

from .models import LedgerAuditRun, LedgerCheckpoint, LedgerEntry


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnly):
    list_display = ["index", "kind", "record_type", "record_id", "leaf_hash", "created_at"]
    list_filter = ["kind"]
    search_fields = ["record_id", "leaf_hash"]


@admin.register(LedgerCheckpoint)
class LedgerCheckpointAdmin(ReadOnly):
    list_display = ["tree_size", "root_hash", "key_id", "created_at"]


@admin.register(LedgerAuditRun)
class LedgerAuditRunAdmin(ReadOnly):
    list_display = ["at", "tree_size", "checkpoint_size", "ok"]
    list_filter = ["ok"]
