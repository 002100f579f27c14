from django.contrib import admin

from matching.models import Framework, FrameworkVersion, MatchReview, MatchRun, Standard


@admin.register(Framework)
class FrameworkAdmin(admin.ModelAdmin):
    list_display = ["kind", "name"]


@admin.register(FrameworkVersion)
class FrameworkVersionAdmin(admin.ModelAdmin):
    list_display = ["framework", "label", "imported_at", "embedded_at", "has_levels"]
    list_filter = ["framework"]
    readonly_fields = ["checksum", "counts", "source", "imported_at", "imported_by", "embedded_at"]


@admin.register(Standard)
class StandardAdmin(admin.ModelAdmin):
    list_display = ["title", "ref", "level", "route", "version"]
    list_filter = ["version", "level"]
    search_fields = ["title", "ref"]


@admin.register(MatchRun)
class MatchRunAdmin(admin.ModelAdmin):
    list_display = ["id", "cycle", "framework_version", "threshold", "status", "created_at"]
    list_filter = ["status"]
    readonly_fields = ["timings", "counts", "windows", "fop_snapshot", "model_name"]


@admin.register(MatchReview)
class MatchReviewAdmin(admin.ModelAdmin):
    list_display = ["capability", "statement", "decision", "reviewer", "at"]
    list_filter = ["decision"]
