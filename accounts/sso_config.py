"""Single sign-on providers read from the environment, turned into django-allauth's settings.

Imported by config/settings.py, so it needs nothing of Django but its exceptions. Two variables,
each a JSON list (or the path of a JSON file, for certificates that do not fit an environment line):

``OIDC_PROVIDERS``: OpenID Connect issuers (Microsoft Entra ID, Google Workspace, Keycloak, …)::

    [{"id": "nhsmail", "name": "NHSmail", "issuer": "https://login.microsoftonline.com/<tenant>/v2.0",
      "client_id": "…", "client_secret": "…", "verified_email_domains": ["nhs.net"]}]

``SAML_PROVIDERS``: SAML 2.0 identity providers (e.g. a UK Access Management Federation member)::

    [{"id": "uni-example", "name": "University of Example", "entity_id": "https://idp.example.ac.uk/…",
      "sso_url": "https://idp.example.ac.uk/…/SSO", "x509cert": "MIIC…"}]
    (or "metadata_url" in place of "sso_url" and "x509cert")

An email address counts as verified only when the provider says so: the OpenID ``email_verified``
claim, a SAML ``email_verified`` attribute, or, for a provider that never sends one (Entra ID, most
SAML federations), an operator's statement that it vouches for the addresses of some domains
(``verified_email_domains``) or for every address it asserts (``"verified_email": true``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
# Reserved by allauth's own URLs under the same prefix (accounts/sso/<id>/login/).
_RESERVED_IDS = {"saml", "3rdparty", "login", "signup"}


def _load(name: str, raw: str) -> list[dict[str, Any]]:
    raw = raw.strip()
    if not raw:
        return []
    if not raw.startswith(("[", "{")):
        path = Path(raw)
        if not path.is_file():
            raise ImproperlyConfigured(f"{name} is neither a JSON list nor the path of a file holding one: {raw!r}")
        raw = path.read_text(encoding="utf-8")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"{name} is not valid JSON: {exc}") from exc
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ImproperlyConfigured(f"{name} must be a JSON list of objects")
    return data


def _need(name: str, item: dict, key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ImproperlyConfigured(f"{name}: provider {item.get('id', '?')!r} needs {key!r}")
    return value.strip()


def _verified_email(name: str, item: dict) -> bool | list[str]:
    domains = item.get("verified_email_domains")
    if domains is not None and "verified_email" in item:
        raise ImproperlyConfigured(f"{name}: give 'verified_email' or 'verified_email_domains', not both")
    if domains is not None:
        if not isinstance(domains, list) or not all(isinstance(d, str) and d for d in domains):
            raise ImproperlyConfigured(f"{name}: 'verified_email_domains' must be a list of domains")
        return [d.lower() for d in domains]
    value = item.get("verified_email", False)
    if not isinstance(value, bool):
        raise ImproperlyConfigured(f"{name}: 'verified_email' must be true or false")
    return value


def _check_id(name: str, item: dict, seen: set[str]) -> str:
    provider_id = _need(name, item, "id")
    if not _ID.match(provider_id) or provider_id in _RESERVED_IDS:
        raise ImproperlyConfigured(
            f"{name}: id {provider_id!r} must be lower-case letters, digits and hyphens (and not one of "
            f"{', '.join(sorted(_RESERVED_IDS))})"
        )
    if provider_id in seen:
        raise ImproperlyConfigured(f"{name}: two providers have the id {provider_id!r}")
    seen.add(provider_id)
    return provider_id


def oidc_apps(raw: str, seen: set[str]) -> list[dict[str, Any]]:
    name = "OIDC_PROVIDERS"
    apps = []
    for item in _load(name, raw):
        provider_id = _check_id(name, item, seen)
        apps.append(
            {
                "provider_id": provider_id,
                "name": item.get("name") or provider_id,
                "client_id": _need(name, item, "client_id"),
                "secret": item.get("client_secret", ""),
                "settings": {
                    "server_url": _need(name, item, "issuer"),
                    # Confidential clients (a secret) authenticate with it; public ones rely on PKCE.
                    "token_auth_method": item.get("token_auth_method", "client_secret_basic"),
                    "oauth_pkce_enabled": True,
                    "verified_email": _verified_email(name, item),
                    **({"scope": item["scope"]} if item.get("scope") else {}),
                },
            }
        )
    return apps


def saml_apps(raw: str, seen: set[str]) -> list[dict[str, Any]]:
    name = "SAML_PROVIDERS"
    apps = []
    for item in _load(name, raw):
        provider_id = _check_id(name, item, seen)
        idp: dict[str, Any] = {"entity_id": _need(name, item, "entity_id")}
        if item.get("metadata_url"):
            idp["metadata_url"] = item["metadata_url"]
        else:
            idp["sso_url"] = _need(name, item, "sso_url")
            idp["x509cert"] = _need(name, item, "x509cert")
        settings: dict[str, Any] = {
            "idp": idp,
            "verified_email": _verified_email(name, item),
            "advanced": {
                # Only a signed assertion is believed (UK federation IdPs sign theirs).
                "want_assertion_signed": item.get("want_assertion_signed", True),
                "allow_single_label_domains": item.get("allow_single_label_domains", False),
                **({"x509cert": item["sp_x509cert"]} if item.get("sp_x509cert") else {}),
                **({"private_key": item["sp_private_key"]} if item.get("sp_private_key") else {}),
                **({"authn_request_signed": True} if item.get("sp_private_key") else {}),
            },
            "use_nameid_for_email": item.get("use_nameid_for_email", False),
        }
        if item.get("sp_entity_id"):
            settings["sp"] = {"entity_id": item["sp_entity_id"]}
        if item.get("attribute_mapping"):
            settings["attribute_mapping"] = item["attribute_mapping"]
        # allauth names a SAML app by its client_id, the "organisation slug" in its URLs.
        apps.append(
            {
                "provider_id": provider_id,
                "name": item.get("name") or provider_id,
                "client_id": provider_id,
                "settings": settings,
            }
        )
    return apps


def socialaccount_providers(oidc_raw: str, saml_raw: str) -> dict[str, Any]:
    """allauth's SOCIALACCOUNT_PROVIDERS for the two variables (ids unique across both)."""
    seen: set[str] = set()
    return {
        "openid_connect": {"APPS": oidc_apps(oidc_raw, seen), "OAUTH_PKCE_ENABLED": True},
        "saml": {"APPS": saml_apps(saml_raw, seen)},
    }
