from django.apps import AppConfig


class WorkshopsConfig(AppConfig):
    name = "workshops"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Contribute to the cycle's navigation and everyone's dashboard (cycles never names us)."""
        from core.lazy import deferred
        from cycles.models import Phase, Role
        from cycles.navigation import NavLink, register_link
        from cycles.selectors import register_dashboard_source

        c, ed, ob = Role.CONVENER, Role.EDUCATOR, Role.OBSERVER
        register_link(NavLink("Capture", "workshops:capture", Phase.CARRY_OUT, (), "pencil-square"))
        register_link(NavLink("Delphi", "workshops:delphi", Phase.CARRY_OUT, (), "ui-radios-grid"))
        register_link(NavLink("FOPs", "workshops:fops", Phase.CARRY_OUT, (), "person-badge"))
        register_link(NavLink("KSB tags", "workshops:tags", Phase.CARRY_OUT, (c, ed, ob), "tags"))
        for source in (
            "workshops.delphi.selectors.dashboard_open_rounds",
            "workshops.fops.selectors.dashboard_fops_to_ratify",
            "workshops.fops.selectors.dashboard_fops_returned",
            "workshops.tags.selectors.dashboard_untagged",
        ):
            register_dashboard_source(deferred(source))  # imported on the first dashboard, not at start
