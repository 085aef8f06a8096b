from django.contrib import admin

from .models import Certificate, Enterprise, Person, Qualification


class QualificationInline(admin.TabularInline):
    model = Qualification
    extra = 0


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = ["name", "uscc", "kind", "jurisdiction", "is_demo"]
    list_filter = ["kind", "jurisdiction"]
    search_fields = ["name", "uscc"]
    inlines = [QualificationInline]


class CertificateInline(admin.TabularInline):
    model = Certificate
    extra = 0


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["name", "id_number_masked", "employer", "is_demo"]
    search_fields = ["name"]
    readonly_fields = ["id_number_masked", "gender", "birth_date"]
    list_select_related = ["employer"]
    inlines = [CertificateInline]
