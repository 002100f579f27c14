"""Admin for the Delphi: plans, items, rounds and results for support; votes stay read-only."""

from django.contrib import admin

from workshops.models import DelphiItem, DelphiPlan, ItemChange, ItemResult, ReminderSent, Round, Vote


@admin.register(DelphiPlan)
class DelphiPlanAdmin(admin.ModelAdmin):
    list_display = [
        "cycle",
        "feedback_mode",
        "min_responses",
        "agreement_threshold",
        "iqr_max",
        "max_rounds",
        "locked_at",
    ]
    readonly_fields = ["locked_at"]


@admin.register(DelphiItem)
class DelphiItemAdmin(admin.ModelAdmin):
    list_display = ["__str__", "cycle", "outcome", "consensus_value", "outcome_round"]
    list_filter = ["outcome", "cycle"]
    list_select_related = ["capability", "role_level", "cycle"]


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin):
    list_display = ["cycle", "number", "status", "opened_at", "deadline", "closed_at", "aggregated_at", "sequence"]
    list_filter = ["status"]
    readonly_fields = ["sequence", "summary", "aggregated_at"]
    filter_horizontal = ["items"]


@admin.register(ItemResult)
class ItemResultAdmin(admin.ModelAdmin):
    list_display = ["round", "item", "n", "median", "iqr", "agreement", "consensus", "stable"]
    list_filter = ["consensus", "stable"]


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    # Votes change only through vote_cast (acknowledgements, sequence numbers, broadcasts).
    list_display = ["round", "item", "panellist", "value", "updated_at"]
    list_select_related = ["round", "item__capability", "item__role_level", "panellist"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class _ReadOnly(admin.ModelAdmin):
    # The record of the Delphi: written by its services only (changes.py, reminders.py), audited.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ItemChange)
class ItemChangeAdmin(_ReadOnly):
    list_display = ["cycle", "after_round", "kind", "reason", "created_at"]
    list_filter = ["kind"]


@admin.register(ReminderSent)
class ReminderSentAdmin(_ReadOnly):
    list_display = ["round", "panellist", "hours_before", "status", "created_at"]
    list_filter = ["status"]
