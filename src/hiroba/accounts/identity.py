"""Who a resident is, for every module: the identity levels' checks, the one verifier and the
verification a resident keeps for the whole session.

A module states the level a write needs (`IdentityLevel`: none, a confirmed e-mail address, a
verified identity) and asks `level(request)` / `satisfies(request, needed)`; it never keeps an
identity of its own. A verified identity comes from the verifier and is kept in the resident's
session (`remember`), once for every case and module, until the session ends.

The verifier has `start(request, next_url=, redirect_uri=)` (sends the resident to the identity
provider) and `finish(request, redirect_uri=)` (returns `(next_url, VerifiedIdentity)` or raises
`VerificationFailed`). hiroba ships `OIDCVerifier`, an OpenID Connect relying party
(authorization code flow with PKCE S256, state and nonce; the ID token's RS256/ES256 signature is
checked against the provider's JWKS, and iss, aud, exp, iat and nonce are checked). A ward points
it at its IdP (for example one backed by the My Number Card) with settings.HIROBA_OIDC (the
former name CONSULTATIONS_OIDC is still read):

    HIROBA_OIDC = {"issuer": "https://idp.example.lg.jp", "client_id": "hiroba",
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
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.module_loading import import_string
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from hiroba.accounts.models import IdentityLevel

SESSION_KEY = "hiroba_identity"
PENDING_KEY = "hiroba_identity_oidc_pending"
HTTP_TIMEOUT = 10
CLOCK_SKEW = 60
DEFAULT_VERIFIER = "hiroba.accounts.identity.OIDCVerifier"


@dataclass(frozen=True)
class VerifiedIdentity:
    """What the verifier vouches for: the provider's subject, with the name and address it gave."""

    verifier: str
    issuer: str
    subject: str
    name: str = ""
    email: str = ""

    @property
    def subject_hash(self) -> str:
        """Who the person is, without the provider's identifier itself (kept on the records)."""
        return hashlib.sha256(f"{self.issuer}|{self.subject}".encode()).hexdigest()


def _setting(name: str, former: str, default: Any = None) -> Any:
    """settings.<name>, else the setting's name from when only consultations verified identities."""
    return getattr(settings, name, getattr(settings, former, default))


def remember(request: HttpRequest, identity: VerifiedIdentity) -> None:
    """Keep the resident's verified identity for the rest of the session (every case, every module)."""
    request.session[SESSION_KEY] = asdict(identity)


def verified(request: HttpRequest) -> VerifiedIdentity | None:
    """The identity this session's resident verified, if any. Without a session cookie nothing
    is loaded (the hot path of an anonymous opinion)."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None
    data = request.session.get(SESSION_KEY)
    return VerifiedIdentity(**data) if isinstance(data, dict) else None


def level(request: HttpRequest) -> IdentityLevel:
    """The highest level this request's resident has reached: a verified identity in the session,
    else a signed-in resident's confirmed e-mail address, else none."""
    if verified(request) is not None:
        return IdentityLevel.VERIFIED
    user = getattr(request, "user", None)
    if getattr(user, "is_authenticated", False) and email_confirmed(user):
        return IdentityLevel.EMAIL
    return IdentityLevel.NONE


def satisfies(request: HttpRequest, needed: str) -> bool:
    return IdentityLevel.satisfies(level(request), needed)


def email_confirmed(user: Any) -> bool:
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(user=user, verified=True).exists()


class VerificationFailed(Exception):
    """Shown to the resident as the reason (Japanese)."""


class Verifier(Protocol):
    name: str
    label: str

    def start(self, request: HttpRequest, *, next_url: str, redirect_uri: str) -> HttpResponse: ...

    def finish(self, request: HttpRequest, *, redirect_uri: str) -> tuple[str, VerifiedIdentity]: ...


def get_verifier() -> Verifier:
    return import_string(_setting("HIROBA_IDENTITY_VERIFIER", "CONSULTATIONS_VERIFIER", DEFAULT_VERIFIER))()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _http_json(url: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Any:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, headers={"Accept": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as resp:  # noqa: S310 (configured https URL)  # nosec B310
            return json.loads(resp.read().decode())
    except (OSError, ValueError) as exc:
        raise VerificationFailed("本人確認サービスに接続できませんでした。時間をおいてやり直してください。") from exc


class OIDCVerifier:
    name = "oidc"

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        config = config or _setting("HIROBA_OIDC", "CONSULTATIONS_OIDC")
        if not config:
            raise VerificationFailed("本人確認サービスが設定されていません（HIROBA_OIDC）。")
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

    def start(self, request: HttpRequest, *, next_url: str, redirect_uri: str) -> HttpResponse:
        state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        challenge = _b64(hashlib.sha256(verifier.encode()).digest())
        request.session[PENDING_KEY] = {"state": state, "nonce": nonce, "verifier": verifier, "next": next_url,
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
        return pending["next"], VerifiedIdentity(
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
