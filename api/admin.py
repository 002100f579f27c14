from django.contrib import admin

from api.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "user", "created_at", "expires_at", "revoked_at")
    search_fields = ("name", "prefix", "user__email")
    readonly_fields = ("prefix", "digest", "created_at")
    list_select_related = ("user",)
