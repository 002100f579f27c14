from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """Personal data rights: everyone's download of their own data, erasure by a convener or an
    administrator, and the retention period after which a closed cycle's personal data is erased.

    It sits above every other app (it reads and erases what each of them holds about a person), so
    it contributes to the lower apps by registering, as they ask: a section of the profile page and
    a link in the cycle navigation."""

    name = "privacy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.profile import ProfileSection, register_profile_section
        from cycles.models import Role
        from cycles.navigation import NavLink, register_link

        register_profile_section(ProfileSection("personal-data", "privacy/_profile_section.html", lambda user: {}))
        register_link(NavLink("Personal data", "privacy:cycle", None, (Role.CONVENER,), "shield-lock"))
