"""An administrator erases people from the user list too (an action on Django's admin of users)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.admin import UserAdmin
from accounts.models import User
from privacy.services import person_erase


@admin.action(description="Erase the personal data of the selected people (answers stay, anonymous)")
def erase_personal_data(modeladmin, request, queryset):
    erased = 0
    for person in queryset.filter(erased_at__isnull=True):
        try:
            person_erase(person=person, actor=request.user)
            erased += 1
        except (PermissionDenied, ValidationError) as exc:
            modeladmin.message_user(
                request, f"{person}: {' '.join(getattr(exc, 'messages', [str(exc)]))}", messages.ERROR
            )
    modeladmin.message_user(request, f"Erased {erased} person(s).", messages.SUCCESS)


class ErasableUserAdmin(UserAdmin):
    actions = [erase_personal_data]
    list_display = [*UserAdmin.list_display, "erased_at"]


admin.site.unregister(User)
admin.site.register(User, ErasableUserAdmin)
