"""Admin for KSB tags (tags are plain data; merging belongs on the convener's page)."""

from django.contrib import admin

from workshops.models import CapabilityTag, PublishedTagFrequency, Tag
from workshops.tags.services import tag_normalise


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "normalised", "merged_into"]
    list_filter = ["kind"]
    search_fields = ["name", "normalised"]
    readonly_fields = ["normalised"]

    def save_model(self, request, obj, form, change):
        obj.normalised = tag_normalise(obj.name)
        super().save_model(request, obj, form, change)


@admin.register(CapabilityTag)
class CapabilityTagAdmin(admin.ModelAdmin):
    list_display = ["capability", "tag", "added_by", "created_at"]
    list_filter = ["tag__kind"]
    search_fields = ["capability__ref", "tag__name"]
    raw_id_fields = ["capability", "tag", "added_by"]


@admin.register(PublishedTagFrequency)
class PublishedTagFrequencyAdmin(admin.ModelAdmin):
    list_display = ["cycle", "kind", "tag", "count"]
    list_filter = ["cycle", "kind"]
