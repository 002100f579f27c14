"""Admin for FOPs: read-only, because every change must go through the services that record it in
the FOP's hash-chained history (an admin edit would show as tampering)."""

from django.contrib import admin

from workshops.models import FOP, FOPCapability, FOPChange, FOPProposalRun


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class FOPCapabilityInline(admin.TabularInline):
    model = FOPCapability
    fields = ["capability", "proficiency"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FOP)
class FOPAdmin(ReadOnlyAdmin):
    list_display = ["name", "cycle", "role_level", "status", "source", "priority"]
    list_filter = ["status", "source", "priority", "cycle"]
    search_fields = ["name", "description"]
    inlines = [FOPCapabilityInline]


@admin.register(FOPChange)
class FOPChangeAdmin(ReadOnlyAdmin):
    list_display = ["fop", "created_at", "actor_name", "action", "field", "hash"]
    list_filter = ["action"]
    search_fields = ["fop__name", "actor_name", "reason"]


@admin.register(FOPProposalRun)
class FOPProposalRunAdmin(ReadOnlyAdmin):
    list_display = ["cycle", "created_at", "created_by", "status", "finished_at", "parameters", "summary"]
    list_filter = ["status"]
