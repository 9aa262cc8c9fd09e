"""A proof of work before a public write, switched on for a form under a flood (issue 20.3).

The challenge is ALTCHA's (the `altcha` library, its v1 SHA-256 scheme): hiroba makes a random
salt with an expiry and the form's scope, a secret number below `HIROBA_POW_MAX_NUMBER`, and
signs ``sha256(salt + number)`` with a key derived from SECRET_KEY. The resident's browser finds
the number (`hiroba/pow.js`, about a second on an ordinary PC, no puzzle to read or click: nothing
for the resident to do) and sends it back in the hidden field ``altcha``. No external service
is called: the challenge and its check are hiroba's own, as LGWAN requires.

    context["pow"] = pow.challenge("consultations.submit:" + case.slug)   # the page with the form
    if not pow.verify(request.POST.get(pow.FIELD, ""), scope):            # the write
        ...refuse (nothing written)

A solution is good once: `verify` records it in the shared cache until the challenge expires,
so a bot cannot solve one challenge and post it ten thousand times, on any app server.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

from altcha import ChallengeOptionsV1, create_challenge_v1, extract_params_v1, verify_solution_v1
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.crypto import salted_hmac

FIELD = "altcha"
DEFAULT_MAX_NUMBER = 100_000
DEFAULT_TTL_SECONDS = 600


def _key() -> str:
    return salted_hmac("hiroba.core.pow", "challenge-key").hexdigest()


def _max_number() -> int:
    return int(getattr(settings, "HIROBA_POW_MAX_NUMBER", DEFAULT_MAX_NUMBER))


def _ttl() -> int:
    return int(getattr(settings, "HIROBA_POW_TTL_SECONDS", DEFAULT_TTL_SECONDS))


def challenge(scope: str) -> dict[str, Any]:
    """A new signed challenge for the form `scope` (JSON-ready: algorithm, challenge, maxNumber,
    salt, signature), good for HIROBA_POW_TTL_SECONDS."""
    made = create_challenge_v1(ChallengeOptionsV1(hmac_key=_key(), max_number=_max_number(),
                                                  expires=timezone.now() + timedelta(seconds=_ttl()),
                                                  params={"scope": scope}))
    return dict(made.to_dict())


def challenge_json(scope: str) -> str:
    """`challenge` as the JSON text a template puts in a data attribute."""
    return json.dumps(challenge(scope), separators=(",", ":"))


def verify(payload: str, scope: str) -> bool:
    """Whether `payload` (the base64 JSON the browser sent) solves a challenge hiroba made for
    `scope`, still in time and not used before. False for anything else, never an exception."""
    if not payload or len(payload) > 2000:
        return False
    try:
        ok, _error = verify_solution_v1(payload, _key(), check_expires=True)
        if not ok:
            return False
        data = json.loads(base64.b64decode(payload).decode())
        params = extract_params_v1(data)
        if params.get("scope") != [scope] or not params.get("expires"):
            return False
        # Once only, across app servers: the first to store the challenge wins.
        return bool(cache.add(f"hiroba:pow:{data['challenge']}", 1, timeout=_ttl() + 60))
    except (ValueError, TypeError, KeyError, AttributeError):
        return False
