"""Who may do what: one row per URL name, one expected outcome per role and method.

Outcomes: ``OK`` (served: any 2xx/3xx that is not the login redirect, or 400 for a refused form;
the request was authorised), ``LOGIN`` (redirect to the login page), ``FORBIDDEN`` (403),
``NOT_FOUND`` (404), ``NOT_ALLOWED`` (405, wrong method). A method without an entry is not tried.

Every URL in the URL configuration must have a row here: ``test_every_url_has_a_row`` fails for a
new URL until its row is added. Most rows use one of the policies below; spell a row out by hand
only when a view really is different.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

OK, LOGIN, FORBIDDEN, NOT_FOUND, NOT_ALLOWED = "ok", "login", "403", "404", "405"

CONVENER, TECHNOLOGIST, EMPLOYER, EDUCATOR, OBSERVER = "convener", "technologist", "employer", "educator", "observer"
OUTSIDER, ANONYMOUS = "outsider", "anonymous"  # outsider: a member (convener) of another cycle only
MEMBERS = (CONVENER, TECHNOLOGIST, EMPLOYER, EDUCATOR, OBSERVER)
ROLES = (*MEMBERS, OUTSIDER, ANONYMOUS)
CONTRIBUTORS = (CONVENER, TECHNOLOGIST, EMPLOYER, EDUCATOR)  # everyone but observers

Expect = dict[str, str]


def public() -> Expect:
    return dict.fromkeys(ROLES, OK)


def signed_in() -> Expect:
    return {**dict.fromkeys(ROLES, OK), ANONYMOUS: LOGIN}


def staff_only() -> Expect:
    """No persona is site staff: every one of them is refused."""
    return {**dict.fromkeys(ROLES, FORBIDDEN), ANONYMOUS: LOGIN}


def cycle(*allowed: str) -> Expect:
    """A cycle's page: the allowed roles are served, other members refused, outsiders told it does not exist."""
    out = {role: (OK if role in allowed else FORBIDDEN) for role in MEMBERS}
    return {**out, OUTSIDER: NOT_FOUND, ANONYMOUS: LOGIN}


def members() -> Expect:
    return cycle(*MEMBERS)


def convener() -> Expect:
    return cycle(CONVENER)


def wrong_method() -> Expect:
    """A POST-only (or GET-only) view asked with the other method: refused before anything else."""
    return {**dict.fromkeys(ROLES, NOT_ALLOWED), ANONYMOUS: LOGIN}


@dataclass(frozen=True)
class Row:
    get: Expect | None = None
    post: Expect | None = None
    # URL arguments, from the world of tests/security/test_permission_matrix.py
    kwargs: Callable[[object], dict] = field(default=lambda w: {})
    data: Callable[[object], dict] = field(default=lambda w: {})
    note: str = ""


def post_only(policy: Expect, **kw) -> Row:
    return Row(get=wrong_method(), post=policy, **kw)


def get_only(policy: Expect, **kw) -> Row:
    return Row(get=policy, post=wrong_method(), **kw)


SLUG = {"kwargs": lambda w: {"slug": w.slug}}


def _user_of(membership_pk: int) -> int:
    from cycles.models import Membership

    return Membership.objects.get(pk=membership_pk).user_id


def slug_and(**extra: str) -> dict:
    """URL arguments: the cycle's slug plus world attributes by name (``pk="solution_pk"``)."""
    return {"kwargs": lambda w: {"slug": w.slug, **{k: getattr(w, v) for k, v in extra.items()}}}


ROWS: dict[str, Row] = {
    # --- accounts ------------------------------------------------------------------------------
    "accounts:login": Row(get=public(), post=public()),
    "accounts:logout": Row(get=dict.fromkeys(ROLES, NOT_ALLOWED), post=dict.fromkeys(ROLES, LOGIN)),
    "accounts:profile": Row(get=signed_in(), post=signed_in()),
    "accounts:password_reset": Row(get=public(), post=public()),
    "accounts:password_reset_done": Row(get=public()),
    "accounts:password_reset_confirm": Row(
        get=public(), kwargs=lambda w: {"uidb64": "MQ", "token": "not-a-token"}, note="an invalid link says so"
    ),
    "accounts:password_reset_complete": Row(get=public()),
    # --- accounts: single sign-on (django-allauth, accounts/sso_urls.py) -------------------------
    # The test settings configure no provider, so a provider's URLs answer 404 for any id here;
    # tests/accounts/test_sso.py and tests/e2e/test_sso.py drive them with providers configured.
    "account_login": Row(get=dict.fromkeys(ROLES, LOGIN), post=dict.fromkeys(ROLES, LOGIN)),
    "account_signup": Row(get=dict.fromkeys(ROLES, LOGIN), post=dict.fromkeys(ROLES, LOGIN)),
    "account_inactive": Row(get=dict.fromkeys(ROLES, LOGIN), post=dict.fromkeys(ROLES, LOGIN)),
    "socialaccount_login_cancelled": Row(get=public(), post=dict.fromkeys(ROLES, NOT_ALLOWED)),
    "socialaccount_login_error": Row(
        get=dict.fromkeys(ROLES, "status 401"), post=dict.fromkeys(ROLES, NOT_ALLOWED), note="allauth's error page"
    ),
    "socialaccount_signup": Row(get=dict.fromkeys(ROLES, FORBIDDEN), post=dict.fromkeys(ROLES, FORBIDDEN)),
    "openid_connect_login": Row(
        get=dict.fromkeys(ROLES, NOT_FOUND),
        post=dict.fromkeys(ROLES, NOT_FOUND),
        kwargs=lambda w: {"provider_id": "nope"},
    ),
    "openid_connect_callback": Row(
        get=dict.fromkeys(ROLES, NOT_FOUND),
        post=dict.fromkeys(ROLES, NOT_FOUND),
        kwargs=lambda w: {"provider_id": "nope"},
    ),
    # The ACS takes the IdP's cross-site POST, keeps it and redirects to acs/finish/, which checks it.
    "saml_acs": Row(get=public(), post=public(), kwargs=lambda w: {"organization_slug": "nope"}),
    **{
        name: Row(
            get=dict.fromkeys(ROLES, NOT_FOUND),
            post=dict.fromkeys(ROLES, NOT_FOUND),
            kwargs=lambda w: {"organization_slug": "nope"},
        )
        for name in ("saml_finish_acs", "saml_sls", "saml_metadata", "saml_login")
    },
    # --- core: operations and the pages every footer links ---------------------------------------
    # /healthz is public (a load balancer asks it) and the same for everyone: 503 here, because the
    # test world has no worker heartbeat (tests/core/test_healthz.py has the 200).
    "healthz": Row(get=dict.fromkeys(ROLES, "status 503"), post=dict.fromkeys(ROLES, NOT_ALLOWED)),
    "accessibility": Row(get=public(), post=dict.fromkeys(ROLES, NOT_ALLOWED)),
    # --- privacy: the notice, everyone's own data, a convener's erasure and retention -------------
    "privacy:notice": Row(get=public(), post=dict.fromkeys(ROLES, NOT_ALLOWED)),
    "privacy:my_data": Row(get=signed_in(), post=wrong_method()),
    "privacy:cycle": Row(get=convener(), post=convener(), **SLUG),
    # The technologist (the world's membership_pk): the convener of cycle A may erase them.
    "privacy:person_erase": Row(
        get=convener(), post=convener(), kwargs=lambda w: {"slug": w.slug, "user_id": _user_of(w.membership_pk)}
    ),
    # --- cycles --------------------------------------------------------------------------------
    "cycles:dashboard": Row(get=signed_in()),
    "cycles:about": Row(get=public()),
    "cycles:cycle_list": Row(get=signed_in()),
    # Conveners of any cycle (the outsider convenes cycle B) and staff may start a cycle.
    "cycles:cycle_create": Row(
        get={**dict.fromkeys(MEMBERS, FORBIDDEN), CONVENER: OK, OUTSIDER: OK, ANONYMOUS: LOGIN},
        post={**dict.fromkeys(MEMBERS, FORBIDDEN), CONVENER: OK, OUTSIDER: OK, ANONYMOUS: LOGIN},
    ),
    "cycles:invitation_accept": Row(get=public(), post=public(), kwargs=lambda w: {"token": w.invitation_token}),
    "cycles:cycle_detail": Row(get=members(), **SLUG),
    "cycles:cycle_edit": Row(get=convener(), post=convener(), **SLUG),
    "cycles:phase_advance": Row(get=convener(), post=convener(), **SLUG),
    "cycles:phase_reopen": post_only(convener(), **SLUG),
    "cycles:audit": Row(get=cycle(CONVENER, OBSERVER), **SLUG),
    "cycles:timeline": Row(get=members(), **SLUG),
    "cycles:timeline_phase": Row(get=convener(), post=convener(), kwargs=lambda w: {"slug": w.slug, "phase": 1}),
    "cycles:members": Row(get=convener(), **SLUG),
    "cycles:invite": Row(get=convener(), post=convener(), **SLUG),
    "cycles:invite_bulk": Row(get=convener(), post=convener(), **SLUG),
    "cycles:membership_role": post_only(convener(), **slug_and(pk="membership_pk")),
    "cycles:membership_remove": post_only(convener(), **slug_and(pk="membership_pk")),
    "cycles:invitation_revoke": post_only(convener(), **slug_and(pk="invitation_pk")),
    "cycles:invitation_resend": post_only(convener(), **slug_and(pk="invitation_pk")),
    "cycles:solutions": Row(get=members(), post=cycle(*CONTRIBUTORS), **SLUG),
    "cycles:solution_rate": Row(get=cycle(*CONTRIBUTORS), post=cycle(*CONTRIBUTORS), **SLUG),
    "cycles:solution_results": Row(get=members(), **SLUG),
    "cycles:solution_prioritise": post_only(convener(), **slug_and(pk="solution_pk")),
    "cycles:partners": Row(get=members(), post=convener(), **SLUG),
    "cycles:partner_edit": Row(get=convener(), post=convener(), **slug_and(pk="partner_pk")),
    "cycles:partner_delete": post_only(convener(), **slug_and(pk="partner_pk")),
    "cycles:role_levels": Row(get=members(), post=convener(), **SLUG),
    "cycles:role_level_edit": Row(get=convener(), post=convener(), **slug_and(pk="role_level_pk")),
    "cycles:role_level_delete": post_only(convener(), **slug_and(pk="role_level_pk")),
    "cycles:workshops": Row(get=members(), post=convener(), **SLUG),
    "cycles:workshop_edit": Row(get=convener(), post=convener(), **slug_and(pk="workshop_pk")),
    "cycles:workshop_delete": post_only(convener(), **slug_and(pk="workshop_pk")),
    "cycles:cycle_calendar": Row(get=members(), **SLUG),
    "cycles:workshop_calendar": Row(get=members(), **slug_and(pk="workshop_pk")),
    # --- workshops: capture and taxonomy ---------------------------------------------------------
    "workshops:capture": Row(get=members(), post=cycle(CONVENER, TECHNOLOGIST), **SLUG),
    "workshops:capture_workshop": Row(
        get=members(), post=cycle(CONVENER, TECHNOLOGIST), **slug_and(workshop_id="workshop_pk")
    ),
    "workshops:capture_check": Row(get=members(), post=members(), **SLUG),
    "workshops:capture_classification": Row(get=members(), **SLUG),
    "workshops:capabilities_bulk": post_only(convener(), **SLUG),
    "workshops:capabilities_bulk_undo": post_only(convener(), **SLUG),
    "workshops:capabilities_import": Row(get=convener(), post=convener(), **SLUG),
    "workshops:capabilities_export": Row(get=members(), **SLUG),
    "workshops:capability_detail": Row(get=members(), **slug_and(pk="capability_pk")),
    "workshops:capability_edit": Row(get=convener(), post=convener(), **slug_and(pk="capability_pk")),
    "workshops:capability_accept": post_only(convener(), **slug_and(pk="capability_pk")),
    "workshops:capability_reject": Row(get=convener(), post=convener(), **slug_and(pk="capability_pk")),
    "workshops:capability_merge": Row(get=convener(), post=convener(), **slug_and(pk="capability_pk")),
    "workshops:taxonomy": Row(get=signed_in()),
    "workshops:taxonomy_import": post_only(staff_only()),
    "workshops:taxonomy_export": Row(get=signed_in()),
    # --- workshops: Delphi ------------------------------------------------------------------------
    "workshops:delphi": Row(get=members(), **SLUG),
    "workshops:delphi_plan": Row(get=convener(), post=convener(), **SLUG),
    "workshops:delphi_round_open": Row(get=convener(), post=convener(), **SLUG),
    "workshops:delphi_round": Row(get=members(), **slug_and(number="round_number")),
    # Any member reaches the vote service, which refuses non-voters in band (a message, nothing stored).
    "workshops:delphi_vote": post_only(members(), **slug_and(number="round_number")),
    "workshops:delphi_round_close": post_only(convener(), **slug_and(number="round_number")),
    "workshops:delphi_round_reveal": post_only(convener(), **slug_and(number="round_number")),
    "workshops:delphi_facilitator": Row(get=convener(), **slug_and(number="round_number")),
    "workshops:delphi_presenter": Row(get=convener(), **slug_and(number="round_number")),
    "workshops:delphi_discuss": post_only(convener(), **slug_and(number="round_number")),
    "workshops:delphi_results": Row(get=members(), **SLUG),
    "workshops:delphi_results_csv": Row(get=members(), **SLUG),
    "workshops:delphi_report": Row(get=members(), **SLUG),
    "workshops:delphi_convergence": Row(get=members(), **SLUG),
    "workshops:delphi_appendix": Row(get=members(), post=convener(), **SLUG),
    "workshops:delphi_appendix_md": Row(get=members(), **SLUG),
    # Items changed between rounds and the reminders' times: the convener's (workshops/delphi/changes.py, reminders.py).
    "workshops:delphi_item_changes": Row(get=convener(), post=convener(), **SLUG),
    "workshops:delphi_reminders": Row(get=convener(), post=convener(), **SLUG),
    # The unsubscribe link in a reminder: no sign-in, the signed token is the authority (an invalid one: 400).
    "workshops:delphi_reminders_unsubscribe": Row(
        get=public(), post=public(), kwargs=lambda w: {"token": "not-a-token"}, note="an invalid link says so"
    ),
    # --- workshops: join codes (the world's code is the open round's, open join off) --------------------
    "join": Row(get=public()),
    # Members land on the round; anyone else holding the code sees how to join (log in) or is refused.
    "join_code": Row(
        get={**dict.fromkeys(MEMBERS, OK), OUTSIDER: FORBIDDEN, ANONYMOUS: OK},
        post={**dict.fromkeys(MEMBERS, OK), OUTSIDER: FORBIDDEN, ANONYMOUS: FORBIDDEN},
        kwargs=lambda w: {"code": w.join_code},
    ),
    "workshops:join_round": Row(get=convener(), post=convener(), **slug_and(number="round_number")),
    "workshops:join_workshop": Row(get=convener(), post=convener(), **slug_and(workshop_id="workshop_pk")),
    # --- workshops: FOPs (the world's FOP is in review, the employer persona its assigned reviewer) ------
    "workshops:fops": Row(get=members(), **SLUG),
    "workshops:fop_matrix": Row(get=members(), **SLUG),
    "workshops:fop_compare": Row(get=members(), **SLUG),
    "workshops:fop_propose": Row(get=convener(), post=convener(), **SLUG),
    "workshops:fop_new": Row(get=convener(), post=convener(), **SLUG),
    "workshops:fop_merge": post_only(convener(), **SLUG),
    "workshops:fop_detail": Row(get=members(), **slug_and(pk="fop_pk")),
    "workshops:fop_history": Row(get=members(), **slug_and(pk="fop_pk")),
    "workshops:fop_edit": post_only(cycle(CONVENER, EMPLOYER), **slug_and(pk="fop_pk")),
    "workshops:fop_capability_add": post_only(cycle(CONVENER, EMPLOYER), **slug_and(pk="fop_pk")),
    "workshops:fop_capability_change": post_only(
        cycle(CONVENER, EMPLOYER), **slug_and(pk="fop_pk", capability_pk="capability_pk")
    ),
    "workshops:fop_reviewers": post_only(convener(), **slug_and(pk="fop_pk")),
    # Ratifying is the employers' call: the convener manages FOPs but does not ratify them.
    "workshops:fop_ratify": post_only(cycle(EMPLOYER), **slug_and(pk="fop_pk")),
    "workshops:fop_return": post_only(cycle(EMPLOYER), **slug_and(pk="fop_pk")),
    "workshops:fop_reopen": post_only(convener(), **slug_and(pk="fop_pk")),
    "workshops:fop_split": Row(get=convener(), post=convener(), **slug_and(pk="fop_pk")),
    "workshops:fop_delete": post_only(convener(), **slug_and(pk="fop_pk")),
    "workshops:capability_trace": Row(get=members(), **slug_and(pk="capability_pk")),
    # --- workshops: KSB tags ----------------------------------------------------------------------
    "workshops:tags": Row(get=members(), **SLUG),
    "workshops:tag_frequency": Row(get=members(), **SLUG),
    "workshops:tag_merge": Row(get=convener(), post=convener(), **SLUG),
    "workshops:tag_capability": Row(get=members(), **slug_and(pk="capability_pk")),
    "workshops:tag_add": post_only(cycle(CONVENER, EDUCATOR), **slug_and(pk="capability_pk")),
    "workshops:tag_remove": post_only(cycle(CONVENER, EDUCATOR), **slug_and(pk="capability_pk", tag_pk="tag_pk")),
    # --- matching -----------------------------------------------------------------------------------
    # Frameworks are the whole site's: any signed-in person reads them, only site staff import.
    "matching:frameworks": Row(get=signed_in(), post=staff_only()),
    "matching:framework_import": get_only(staff_only(), kwargs=lambda w: {"job_id": w.framework_import_pk}),
    "matching:framework_import_retry": post_only(staff_only(), kwargs=lambda w: {"job_id": w.framework_import_pk}),
    "matching:runs": Row(get=members(), post=convener(), **SLUG),
    "matching:run_detail": get_only(members(), **slug_and(run_id="run_pk")),
    "matching:run_progress": get_only(members(), **slug_and(run_id="run_pk")),
    "matching:run_threshold": post_only(convener(), **slug_and(run_id="run_pk")),
    "matching:run_rerun": post_only(convener(), **slug_and(run_id="run_pk")),
    "matching:run_review": post_only(cycle(CONVENER, EDUCATOR), **slug_and(run_id="run_pk")),
    "matching:run_capability": get_only(members(), **slug_and(run_id="run_pk", capability_id="capability_pk")),
    "matching:run_fop": get_only(members(), **slug_and(run_id="run_pk", fop_id="fop_pk")),
    "matching:library_search": get_only(members(), **SLUG),
    "matching:library_duplicates": get_only(members(), **SLUG),
    "matching:library_classify": get_only(members(), **SLUG),
    # --- findings -------------------------------------------------------------------------------------
    "findings:search": Row(get=signed_in()),
    "findings:home": Row(get=members(), **SLUG),
    "findings:exports": Row(get=members(), **SLUG),
    "findings:export_start": post_only(members(), **SLUG),
    # The job was requested by the convener: only its requester may follow or fetch it.
    "findings:export_status": Row(get=cycle(CONVENER), **slug_and(job_id="export_job_pk")),
    "findings:export_file": Row(get=cycle(CONVENER), **slug_and(job_id="export_job_pk")),
    "findings:export_retry": post_only(cycle(CONVENER), **slug_and(job_id="export_job_pk")),
    "findings:share_links": Row(get=convener(), post=convener(), **SLUG),
    "findings:share_revoke": post_only(convener(), **slug_and(pk="share_pk")),
    "findings:page": Row(get=members(), **slug_and(key="page_key")),
    "findings:download": Row(get=members(), kwargs=lambda w: {"slug": w.slug, "key": w.page_key, "fmt": "csv"}),
    "findings:report": Row(get=members(), **SLUG),
    "findings:report_section": Row(get=convener(), post=convener(), **slug_and(key="section_key")),
    "findings:actions": Row(get=members(), **SLUG),
    "findings:action_create": Row(get=convener(), post=convener(), **SLUG),
    "findings:action_edit": Row(get=convener(), post=convener(), **slug_and(pk="action_pk")),
    "findings:action_delete": post_only(convener(), **slug_and(pk="action_pk")),
    # A share link is a bearer token: whoever holds it reads the findings, nothing else.
    "findings:shared_home": Row(get=public(), kwargs=lambda w: {"token": w.share_token}),
    "findings:shared_report": Row(get=public(), kwargs=lambda w: {"token": w.share_token}),
    "findings:shared_actions": Row(get=public(), kwargs=lambda w: {"token": w.share_token}),
    "findings:shared_page": Row(get=public(), kwargs=lambda w: {"token": w.share_token, "key": w.page_key}),
    "findings:shared_download": Row(
        get=public(), kwargs=lambda w: {"token": w.share_token, "key": w.page_key, "fmt": "csv"}
    ),
    # --- api: everyone's own API tokens ----------------------------------------------------------------
    "api:tokens": Row(get=signed_in(), post=signed_in()),
    "api:token_revoke": Row(
        get=wrong_method(),
        post={**dict.fromkeys(ROLES, NOT_FOUND), ANONYMOUS: LOGIN},
        kwargs=lambda w: {"pk": 0},
        note="nobody's token: a token that is not the caller's is a 404",
    ),
}

# The read API's URLs: a session gets a 401 (tokens only); what each role's token reaches is
# tests/api/matrix.py, checked by tests/api/test_permission_matrix.py.
from tests.api.matrix import session_rows  # noqa: E402 - after Row, which it uses

ROWS.update(session_rows())
