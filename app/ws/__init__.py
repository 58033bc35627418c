"""Websockets: frames, one connection's pump and reader, the hub, visitor and agent sockets."""

from fastapi import FastAPI
from fastapi.routing import APIWebSocketRoute

from app.ws.agent import router as agent_router
from app.ws.visitor import router as visitor_router


def add_websockets(app: FastAPI) -> None:
    """The visitor and agent sockets as routes of the app itself, not of an included router:
    each level of inclusion keeps a few coroutine frames alive for as long as a socket is open
    (about 2 KiB per idle socket, issue 12)."""
    for route in (*visitor_router.routes, *agent_router.routes):
        assert isinstance(route, APIWebSocketRoute)
        app.add_api_websocket_route(route.path, route.endpoint, name=route.name)
