"""Admin for the classification taxonomy (staff edit it here) and capability statements."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from workshops.models import Capability, Function, FunctionalArea, FunctionalDomain


class FunctionalDomainInline(admin.TabularInline):
    model = FunctionalDomain
    extra = 1
    fields = ["name"]
    show_change_link = True


class FunctionalAreaInline(admin.TabularInline):
    model = FunctionalArea
    extra = 1
    fields = ["name"]


@admin.register(Function)
class FunctionAdmin(admin.ModelAdmin):
    list_display = ["name", "order", "domain_count", "import_export"]
    list_editable = ["order"]
    search_fields = ["name", "description"]
    inlines = [FunctionalDomainInline]

    @admin.display(description="Domains")
    def domain_count(self, obj: Function) -> int:
        return obj.domains.count()

    @admin.display(description="CSV")
    def import_export(self, obj: Function) -> str:
        return format_html('<a href="{}">Import / export the taxonomy</a>', reverse("workshops:taxonomy"))


@admin.register(FunctionalDomain)
class FunctionalDomainAdmin(admin.ModelAdmin):
    list_display = ["name", "function"]
    list_filter = ["function"]
    search_fields = ["name", "function__name"]
    list_select_related = ["function"]
    inlines = [FunctionalAreaInline]


@admin.register(FunctionalArea)
class FunctionalAreaAdmin(admin.ModelAdmin):
    list_display = ["name", "domain"]
    list_filter = ["domain__function"]
    search_fields = ["name", "domain__name", "domain__function__name"]
    list_select_related = ["domain__function"]
    autocomplete_fields = ["domain"]


@admin.register(Capability)
class CapabilityAdmin(admin.ModelAdmin):
    list_display = ["ref", "short_statement", "cycle", "status", "function", "highlighted"]
    list_filter = ["status", "highlighted", "cycle", "function"]
    search_fields = ["ref", "statement"]
    list_select_related = ["cycle", "function"]
    raw_id_fields = ["merged_into", "submitted_by", "workshop"]
    autocomplete_fields = ["area"]
    filter_horizontal = ["partners"]

    @admin.display(description="Statement")
    def short_statement(self, obj: Capability) -> str:
        return obj.statement[:90]
