from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Serve the FOP, KSB and capture pages' hooks and add the Matching link (workshops never names us)."""
        from core.lazy import deferred
        from cycles.models import Phase, Role
        from cycles.navigation import NavLink, register_link
        from workshops.fops import providers

        # Deferred: proposals and suggestions load numpy and the embedding store on first use only.
        providers.register("propose_profiles", deferred("matching.proposals.propose_profiles"))
        providers.register("best_matches", deferred("matching.proposals.best_matches_for_capabilities"))
        providers.register("suggest_tags", deferred("matching.suggestions.suggest_tags"))
        providers.register("warm_up", deferred("matching.services.warm_up_queue"))
        providers.register("similar_tag_pairs", deferred("matching.suggestions.similar_tag_pairs"))
        providers.register("similar_statements", deferred("matching.assist.similar_statements"))
        providers.register("suggest_classifications", deferred("matching.assist.suggest_classifications"))
        register_link(
            NavLink(
                "Matching", "matching:runs", Phase.CARRY_OUT, (Role.CONVENER, Role.EDUCATOR, Role.OBSERVER), "intersect"
            )
        )
