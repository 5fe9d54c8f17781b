"""`make run`'s last step: make sure the local demo account has credit and print the dashboard's URL,
already signed in (the token travels in the URL fragment, which browsers never send to a server).

    .venv/bin/python deploy/local/demo.py EDGE_URL

The top-up goes through the edge, like any client's call, with an admin token minted from the local
development key and an Idempotency-Key, so the ordering flow works at once on a fresh database.
"""
from __future__ import annotations

import sys
import uuid
from decimal import Decimal

import httpx

from shared.auth import mint

ACCOUNT = "demo"
TOKEN_TTL = 12 * 3600
LOW = Decimal("1000.00")        # below this the account is topped up ...
TARGET = Decimal("10000.00")    # ... to this


def eur(amount: Decimal) -> str:
    return f"EUR {amount:,.2f}"


def main(edge: str) -> None:
    token = mint(ACCOUNT, ttl=TOKEN_TTL)
    with httpx.Client(base_url=edge, timeout=30) as http:
        got = http.get(f"/v1/accounts/{ACCOUNT}/credits", headers={"Authorization": f"Bearer {token}"})
        got.raise_for_status()
        balance = Decimal(got.json()["balance"])
        if balance < LOW:
            admin = mint("local-admin", admin=True, ttl=300)
            topped = http.post(f"/v1/accounts/{ACCOUNT}/credits", json={"amount": f"{TARGET - balance:.2f}"},
                               headers={"Authorization": f"Bearer {admin}", "Idempotency-Key": str(uuid.uuid4())})
            topped.raise_for_status()
            balance = Decimal(topped.json()["balance"])
    print(f"Dashboard, signed in as {ACCOUNT} (credit {eur(balance)}):")
    print(f"  {edge}/#token={token}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} EDGE_URL")
    main(sys.argv[1].rstrip("/"))
