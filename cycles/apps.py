from django.apps import AppConfig


class CyclesConfig(AppConfig):
    name = "cycles"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Show a person's cycles and roles on their profile page, and match single sign-on to invitations
        (accounts never names cycles)."""
        from accounts.profile import ProfileSection, register_profile_section
        from accounts.sso import SignInPolicy, register_sign_in_policy
        from cycles.access import password_sign_in_refusal
        from cycles.selectors import active_memberships_of_user
        from cycles.services.members import pending_invitation_exists

        register_profile_section(
            ProfileSection(
                "cycles",
                "cycles/_profile_cycles.html",
                lambda user: {"memberships": active_memberships_of_user(user).order_by("cycle__title")},
            )
        )

        register_sign_in_policy(
            SignInPolicy(
                "cycles",
                has_invitation=pending_invitation_exists,
                on_sso_sign_in=_landing_after_sso,
                password_refusal=password_sign_in_refusal,
            )
        )


def _landing_after_sso(user, email: str) -> str | None:
    """The cycle a first single sign-on just joined (the last, if several), to land on."""
    from django.urls import reverse

    from cycles.services.members import invitations_accept_for_sso

    joined = invitations_accept_for_sso(user=user, email=email)
    return reverse("cycles:cycle_detail", args=[joined[-1].cycle.slug]) if joined else None
