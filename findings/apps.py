from django.apps import AppConfig


class FindingsConfig(AppConfig):
    name = "findings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cycles.models import Phase
        from cycles.navigation import NavLink, register_link

        # "Findings" (findings:home) and "Actions" are already in the cycle navigation's list.
        register_link(NavLink("Report", "findings:report", Phase.COMMUNICATE, (), "file-earmark-text"))
