"""JWT bearer authentication: RS256 tokens carrying the account id; a CLI mints local tokens.

    python -m shared.auth mint --account <id> [--admin] [--ttl SECONDS]
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
from fastapi import Request

from shared.problems import Problem
from shared.settings import DEV_KEYS


@dataclass(frozen=True)
class Principal:
    account: str
    admin: bool = False


class TokenVerifier:
    """Checks RS256 bearer tokens of one issuer; with an `audience`, tokens must name it in `aud` (an
    OpenID Connect provider's access tokens carry one), without one a token naming any audience is refused."""

    def __init__(self, public_key_pem: bytes, issuer: str, audience: str | None = None) -> None:
        self.key, self.issuer, self.audience = public_key_pem, issuer, audience

    @classmethod
    def from_file(cls, path: Path, issuer: str, audience: str | None = None) -> TokenVerifier:
        return cls(Path(path).read_bytes(), issuer, audience)

    def verify(self, authorization: str | None) -> Principal:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Problem(401, "unauthenticated",
                          "send Authorization: Bearer <token> "
                          "(mint one locally: python -m shared.auth mint --account <id>)")
        token = authorization.split(" ", 1)[1].strip()
        try:
            claims = jwt.decode(token, self.key, algorithms=["RS256"], issuer=self.issuer, audience=self.audience,
                                options={"require": ["exp", "sub"]})
        except jwt.ExpiredSignatureError:
            raise Problem(401, "token_expired", "the bearer token has expired; get a new one") from None
        except jwt.InvalidTokenError as exc:
            raise Problem(401, "invalid_token", f"the bearer token is not valid: {exc}") from None
        account = claims.get("account") or claims["sub"]
        return Principal(account=str(account), admin=bool(claims.get("admin", False)))


def principal_of(request: Request) -> Principal:
    """The verified caller of a request (the app's state holds the verifier)."""
    verifier: TokenVerifier = request.app.state.verifier
    return verifier.verify(request.headers.get("authorization"))


async def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the verified caller. Async on purpose: FastAPI runs a sync dependency on
    a worker thread, a hop that costs more than verifying the token."""
    return principal_of(request)


async def require_admin(request: Request) -> Principal:
    p = principal_of(request)
    if not p.admin:
        raise Problem(403, "admin_required", "this route needs an admin token (mint one with --admin)")
    return p


def mint(account: str, *, admin: bool = False, ttl: int = 12 * 3600, issuer: str = "tessera-dev",
         private_key_file: Path = DEV_KEYS / "jwt_dev_private.pem", audience: str | None = None) -> str:
    """A token signed with the local development key (tests and local use only)."""
    now = int(time.time())
    claims: dict[str, object] = {"sub": account, "account": account, "admin": admin, "iss": issuer, "iat": now,
                                 "exp": now + ttl}
    if audience is not None:
        claims["aud"] = audience
    return jwt.encode(claims, Path(private_key_file).read_bytes(), algorithm="RS256")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m shared.auth")
    sub = parser.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("mint", help="print a token signed with the local development key")
    m.add_argument("--account", required=True)
    m.add_argument("--admin", action="store_true")
    m.add_argument("--ttl", type=int, default=12 * 3600, help="seconds until it expires")
    args = parser.parse_args(argv)
    print(mint(args.account, admin=args.admin, ttl=args.ttl))


if __name__ == "__main__":
    main()
