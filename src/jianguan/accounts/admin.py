from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .forms import ThrottledAdminAuthenticationForm
from .models import ApiToken, DataSharingRule, Department, User

admin.site.login_form = ThrottledAdminAuthenticationForm


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "role", "department", "enterprise", "is_active"]
    list_filter = ["role", "department__kind", "is_active"]
    search_fields = ["username", "display_name"]
    autocomplete_fields = ["enterprise", "person"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("监管平台", {"fields": ("display_name", "role", "department", "enterprise", "person")}),
    )


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "jurisdiction"]
    list_filter = ["kind"]


@admin.register(DataSharingRule)
class DataSharingRuleAdmin(admin.ModelAdmin):
    list_display = ["department_kind", "resource", "grants_label", "purpose", "legal_basis", "active"]
    readonly_fields = ["grants_label"]

    @admin.display(description="授权查看的内容")
    def grants_label(self, obj):
        return obj.grants


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "expires_at", "revoked"]
    readonly_fields = ["prefix", "key_hash", "last_used_at"]
