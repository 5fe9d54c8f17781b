"""HTTP routes and Kafka effects of the pricing service: thin (parse, call the domain, persist, enqueue)."""
from fastapi import APIRouter, Depends

from shared.auth import Principal, current_principal

router = APIRouter(prefix="/v1/estimates", tags=["pricing"])


@router.get("/_ping")
async def ping(principal: Principal = Depends(current_principal)) -> dict:
    """Smoke route: proves routing and authentication."""
    return {"service": "pricing", "account": principal.account}
