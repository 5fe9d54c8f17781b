"""HTTP routes and Kafka effects of the cart service: thin (parse, call the domain, persist, enqueue)."""
from fastapi import APIRouter, Depends

from shared.auth import Principal, current_principal

router = APIRouter(prefix="/v1/carts", tags=["cart"])


@router.get("/_ping")
async def ping(principal: Principal = Depends(current_principal)) -> dict:
    """Smoke route: proves routing and authentication."""
    return {"service": "cart", "account": principal.account}
