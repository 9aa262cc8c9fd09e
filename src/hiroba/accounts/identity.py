"""Who a resident is, for every module: the identity levels' checks, the one verifier and the
one stored verification (`ResidentVerification`) a resident keeps from one session to the next.

A module states the level a write needs (`IdentityLevel`: none, a confirmed e-mail address, a
verified identity) and asks `level(request)` / `satisfies(request, needed)` (or, in a service
given an account rather than a request, `user_level(user)` / `stored_verification(user)`); it
never keeps an identity of its own. A verified identity comes from the verifier: `complete`
keeps it in the session (`remember`) and, for a signed-in resident, on their account
(`hiroba.accounts.services.resident_verification_store`), so every later session of theirs is
verified too until staff revoke it. Staff record one at a counter (`resident_verify`).

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
import hmac
import json
import secrets
import time
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.module_loading import import_string
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from hiroba.accounts.models import IdentityLevel, ResidentVerification
from hiroba.core.text import fold


class EmailFlag(TypedDict):
    email_confirmed: bool  # the account's e-mail address is confirmed


if TYPE_CHECKING:  # django-stubs-ext is a development dependency
    from django_stubs_ext import WithAnnotations

    StoredVerification = WithAnnotations[ResidentVerification, EmailFlag]

SESSION_KEY = "hiroba_identity"
_STORED = "_hiroba_stored_verification"
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
    #: A stored verification's identity key: its issuer and subject are not kept.
    key: str = ""

    @property
    def subject_hash(self) -> str:
        """Who the person is, without the provider's identifier itself (kept on the records)."""
        if self.key:
            return self.key
        return hashlib.sha256(f"{self.issuer}|{self.subject}".encode()).hexdigest()


def keyed_hash(purpose: bytes, message: str) -> str:
    """An HMAC of `message` with a key derived for `purpose` from a secret that is not in the
    database (settings.HIROBA_BALLOT_KEY, else SECRET_KEY)."""
    secret = (getattr(settings, "HIROBA_BALLOT_KEY", "") or settings.SECRET_KEY).encode()
    key = hmac.new(secret, purpose, hashlib.sha256).digest()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _normalise(text: str) -> str:
    # hyphens, long-vowel marks, middle dots and commas are typed every which way in kana and addresses
    return fold(text, drop="-‐ー－・,，、.")


def identity_key(*, name_kana: str, birth_date: date, address: str) -> str:
    """Who a person is, as a keyed hash: equal for the same name (かな), birth date and address.
    (The purpose keeps the proposals app's name: the keys stored before are still equal.)"""
    return keyed_hash(b"hiroba.proposals.identity/1",
                      f"{_normalise(name_kana)}|{birth_date.isoformat()}|{_normalise(address)}")


def _setting(name: str, former: str, default: Any = None) -> Any:
    """settings.<name>, else the setting's name from when only consultations verified identities."""
    return getattr(settings, name, getattr(settings, former, default))


def remember(request: HttpRequest, identity: VerifiedIdentity) -> None:
    """Keep the resident's verified identity for the rest of the session (every case, every module)."""
    request.session[SESSION_KEY] = asdict(identity)


def complete(request: HttpRequest, identity: VerifiedIdentity) -> ResidentVerification | None:
    """The verifier vouched for this request's resident: keep it in the session and, when they
    are signed in, as their stored verification (returned; None when nothing was stored)."""
    from hiroba.accounts.services import resident_verification_store

    remember(request, identity)
    request.__dict__.pop(_STORED, None)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return resident_verification_store(user=user, identity=identity)


def stored_verification(user: Any) -> StoredVerification | None:
    """The account's live (not revoked) stored verification, if any, annotated with
    `email_confirmed` (whether the account's e-mail address is confirmed): one query."""
    if not getattr(user, "is_authenticated", False):
        return None
    from allauth.account.models import EmailAddress

    confirmed = Exists(EmailAddress.objects.filter(user_id=OuterRef("user_id"), verified=True))
    return (ResidentVerification.objects.filter(user=user, revoked_at__isnull=True).select_related("user")
            .annotate(email_confirmed=confirmed).first())


def person_verification(*, name_kana: str, birth_date: date, address: str) -> ResidentVerification | None:
    """The verification of the person with this name (かな), birth date and address (a paper
    voter at a counter), revoked or not."""
    key = identity_key(name_kana=name_kana, birth_date=birth_date, address=address)
    return ResidentVerification.objects.filter(identity_key=key).first()


def _stored_for(request: HttpRequest) -> StoredVerification | None:
    """The signed-in resident's stored verification, looked up once per request."""
    if _STORED not in request.__dict__:
        request.__dict__[_STORED] = stored_verification(getattr(request, "user", None))
    return request.__dict__[_STORED]  # type: ignore[no-any-return]


def verified(request: HttpRequest) -> VerifiedIdentity | None:
    """The identity this request's resident verified, if any: the one kept in this session, else
    a signed-in resident's stored verification. Without a session cookie nothing is loaded (the
    hot path of an anonymous opinion)."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None
    data = request.session.get(SESSION_KEY)
    if isinstance(data, dict):
        return VerifiedIdentity(**data)
    stored = _stored_for(request)
    if stored is None:
        return None
    user = stored.user
    # Who the person is: the identity key (a counter's, or the provider's subject hashed).
    key = stored.identity_key or keyed_hash(b"hiroba.accounts.verification/1", str(stored.pk))
    return VerifiedIdentity(verifier=stored.method, issuer="", subject="", name=stored.display_name,
                            email=user.email if user is not None else "", key=key)


def level(request: HttpRequest) -> IdentityLevel:
    """The highest level this request's resident has reached: a verified identity (in the session
    or stored on the signed-in resident's account), else a signed-in resident's confirmed e-mail
    address, else none."""
    if verified(request) is not None:
        return IdentityLevel.VERIFIED
    user = getattr(request, "user", None)
    if getattr(user, "is_authenticated", False) and email_confirmed(user):
        return IdentityLevel.EMAIL
    return IdentityLevel.NONE


def user_level(user: Any) -> IdentityLevel:
    """The level an account has reached outside any session: a live stored verification, else
    a confirmed e-mail address, else none (for services given an account, not a request)."""
    if stored_verification(user) is not None:
        return IdentityLevel.VERIFIED
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
