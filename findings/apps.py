from django.apps import AppConfig


class FindingsConfig(AppConfig):
    name = "findings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cycles.models import Phase
        from cycles.navigation import NavLink, register_link

        register_link(NavLink("Findings", "findings:home", Phase.COMMUNICATE, (), "graph-up"))
        register_link(NavLink("Report", "findings:report", Phase.COMMUNICATE, (), "file-earmark-text"))
        register_link(NavLink("Actions", "findings:actions", Phase.CAUSE_ACTION, (), "check2-square"))
