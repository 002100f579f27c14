from django.apps import AppConfig


class CyclesConfig(AppConfig):
    name = "cycles"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Show a person's cycles and roles on their profile page (accounts never names cycles)."""
        from accounts.profile import ProfileSection, register_profile_section
        from cycles.selectors import active_memberships_of_user

        register_profile_section(
            ProfileSection(
                "cycles",
                "cycles/_profile_cycles.html",
                lambda user: {"memberships": active_memberships_of_user(user).order_by("cycle__title")},
            )
        )
