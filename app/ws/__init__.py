"""Websockets: frames, one connection's pump and reader, the hub, visitor and agent sockets."""

from fastapi import APIRouter

from app.ws.agent import router as agent_router
from app.ws.visitor import router as visitor_router

router = APIRouter()
router.include_router(visitor_router)
router.include_router(agent_router)
