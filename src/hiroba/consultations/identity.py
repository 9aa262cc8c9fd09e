"""Identity verification for the "verified account" level: a pluggable verifier.

A verifier has `start(request, case_slug=, redirect_uri=)` (sends the resident to the identity
provider) and `finish(request, redirect_uri=)` (returns `(case_slug, VerifiedIdentity)` or
raises `VerificationFailed`). hiroba ships `OIDCVerifier`, an OpenID Connect relying party
(authorization code flow with PKCE S256, state and nonce; the ID token's RS256/ES256 signature is
checked against the provider's JWKS, and iss, aud, exp, iat and nonce are checked). A ward points
it at its IdP (for example one backed by the My Number Card) with settings.CONSULTATIONS_OIDC:

    CONSULTATIONS_OIDC = {"issuer": "https://idp.example.lg.jp", "client_id": "hiroba",
                          "client_secret": "…", "scopes": "openid profile email",
                          "label": "マイナンバーカードでログイン"}

Network calls use the standard library (urllib) with a timeout; no third-party IdP SDK.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import urllib.parse
import urllib.request
from typing import Any, Protocol

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.module_loading import import_string
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from hiroba.consultations import conf
from hiroba.consultations.services import VerifiedIdentity

SESSION_KEY = "hiroba_consultation_identity"
PENDING_KEY = "hiroba_consultation_oidc_pending"
HTTP_TIMEOUT = 10
CLOCK_SKEW = 60


class VerificationFailed(Exception):
    """Shown to the resident as the reason (Japanese)."""


class Verifier(Protocol):
    name: str
    label: str

    def start(self, request: HttpRequest, *, case_slug: str, redirect_uri: str) -> HttpResponse: ...

    def finish(self, request: HttpRequest, *, redirect_uri: str) -> tuple[str, VerifiedIdentity]: ...


def get_verifier() -> Verifier:
    return import_string(conf.get("CONSULTATIONS_VERIFIER"))()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _http_json(url: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Any:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, headers={"Accept": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as resp:  # noqa: S310 (configured https URL)
            return json.loads(resp.read().decode())
    except (OSError, ValueError) as exc:
        raise VerificationFailed("本人確認サービスに接続できませんでした。時間をおいてやり直してください。") from exc


class OIDCVerifier:
    name = "oidc"

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        config = config or conf.get("CONSULTATIONS_OIDC")
        if not config:
            raise VerificationFailed("本人確認サービスが設定されていません（CONSULTATIONS_OIDC）。")
        self.issuer = config["issuer"].rstrip("/")
        self.client_id = config["client_id"]
        self.client_secret = config.get("client_secret", "")
        self.scopes = config.get("scopes", "openid profile email")
        self.label = config.get("label", "本人確認サービス")
        self._metadata: dict[str, Any] | None = None

    @property
    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            meta = _http_json(self.issuer + "/.well-known/openid-configuration")
            if meta.get("issuer", "").rstrip("/") != self.issuer:
                raise VerificationFailed("本人確認サービスの設定（issuer）が一致しません。")
            self._metadata = meta
        return self._metadata

    def start(self, request: HttpRequest, *, case_slug: str, redirect_uri: str) -> HttpResponse:
        state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        challenge = _b64(hashlib.sha256(verifier.encode()).digest())
        request.session[PENDING_KEY] = {"state": state, "nonce": nonce, "verifier": verifier, "case": case_slug,
                                        "at": int(time.time())}
        params = {
            "response_type": "code", "client_id": self.client_id, "redirect_uri": redirect_uri,
            "scope": self.scopes, "state": state, "nonce": nonce,
            "code_challenge": challenge, "code_challenge_method": "S256",
        }
        return HttpResponseRedirect(self.metadata["authorization_endpoint"] + "?" + urllib.parse.urlencode(params))

    def finish(self, request: HttpRequest, *, redirect_uri: str) -> tuple[str, VerifiedIdentity]:
        pending = request.session.pop(PENDING_KEY, None)
        if not pending or time.time() - pending["at"] > 600:
            raise VerificationFailed("本人確認の手続きが見つからないか、時間切れです。最初からやり直してください。")
        if request.GET.get("error"):
            raise VerificationFailed("本人確認が完了しませんでした（" + request.GET["error"][:50] + "）。")
        if not secrets.compare_digest(request.GET.get("state", ""), pending["state"]):
            raise VerificationFailed("本人確認の応答が正しくありません（state）。最初からやり直してください。")
        code = request.GET.get("code", "")
        if not code:
            raise VerificationFailed("本人確認の応答が正しくありません（code）。")
        tokens = _http_json(self.metadata["token_endpoint"], data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "client_id": self.client_id, "client_secret": self.client_secret,
            "code_verifier": pending["verifier"],
        })
        raw = tokens.get("id_token")
        if not raw:
            raise VerificationFailed("本人確認サービスから ID トークンを受け取れませんでした。")
        claims = self.verify_id_token(raw, nonce=pending["nonce"])
        return pending["case"], VerifiedIdentity(
            verifier=self.name, issuer=self.issuer, subject=str(claims["sub"]),
            name=str(claims.get("name", ""))[:100], email=str(claims.get("email", ""))[:254],
        )

    def verify_id_token(self, raw: str, *, nonce: str) -> dict[str, Any]:
        keys = KeySet.import_key_set(_http_json(self.metadata["jwks_uri"]))
        try:
            token = jwt.decode(raw, keys, algorithms=["RS256", "ES256", "PS256"])
        except (JoseError, ValueError) as exc:
            raise VerificationFailed("ID トークンの署名を確認できませんでした。") from exc
        claims = token.claims
        now = time.time()
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        problems = [
            (str(claims.get("iss", "")).rstrip("/") != self.issuer, "iss"),
            (self.client_id not in audiences, "aud"),
            (not isinstance(claims.get("exp"), (int, float)) or claims["exp"] < now - CLOCK_SKEW, "exp"),
            (isinstance(claims.get("iat"), (int, float)) and claims["iat"] > now + CLOCK_SKEW, "iat"),
            (not secrets.compare_digest(str(claims.get("nonce", "")), nonce), "nonce"),
            (not claims.get("sub"), "sub"),
        ]
        bad = [name for failed, name in problems if failed]
        if bad:
            raise VerificationFailed(f"ID トークンが正しくありません（{', '.join(bad)}）。")
        return claims
