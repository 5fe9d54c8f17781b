"""HTTP routes and Kafka effects of the tiling service: thin (parse, call the domain, persist, enqueue)."""
from fastapi import APIRouter, Depends

from shared.auth import Principal, current_principal

router = APIRouter(prefix="/v1/tiles", tags=["tiling"])


@router.get("/_ping")
async def ping(principal: Principal = Depends(current_principal)) -> dict:
    """Smoke route: proves routing and authentication."""
    return {"service": "tiling", "account": principal.account}
