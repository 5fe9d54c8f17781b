"""Bearer tokens: issuer, expiry and, when configured, the audience an OpenID Connect provider sets."""
import pytest

from shared.auth import DEV_KEYS, TokenVerifier, mint
from shared.problems import Problem

KEY = (DEV_KEYS / "jwt_dev_public.pem").read_bytes()


def bearer(token: str) -> str:
    return f"Bearer {token}"


def test_a_configured_audience_is_required_and_must_match():
    verifier = TokenVerifier(KEY, "tessera-dev", audience="tessera-api")
    assert verifier.verify(bearer(mint("acct", audience="tessera-api"))).account == "acct"
    for token in (mint("acct", audience="another-api"), mint("acct")):
        with pytest.raises(Problem) as refused:
            verifier.verify(bearer(token))
        assert (refused.value.status, refused.value.code) == (401, "invalid_token")


def test_without_an_audience_a_token_naming_one_is_refused_and_one_without_is_accepted():
    verifier = TokenVerifier(KEY, "tessera-dev")
    assert verifier.verify(bearer(mint("acct", admin=True))).admin is True
    with pytest.raises(Problem) as refused:
        verifier.verify(bearer(mint("acct", audience="tessera-api")))
    assert refused.value.code == "invalid_token"


def test_another_issuer_and_an_expired_token_are_refused():
    verifier = TokenVerifier(KEY, "tessera-dev")
    with pytest.raises(Problem) as other:
        verifier.verify(bearer(mint("acct", issuer="someone-else")))
    with pytest.raises(Problem) as expired:
        verifier.verify(bearer(mint("acct", ttl=-60)))
    assert (other.value.code, expired.value.code) == ("invalid_token", "token_expired")
