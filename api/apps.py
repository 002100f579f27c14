from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Read API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Link everyone's profile page to their API tokens (accounts never names this app)."""
        from accounts.profile import ProfileSection, register_profile_section
        from api.selectors import api_tokens_active_count

        register_profile_section(
            ProfileSection(
                "api_tokens", "api/_profile_tokens.html", lambda user: {"active": api_tokens_active_count(user=user)}
            )
        )
