"""The server's routes, one ``APIRouter`` per page with its API; ``serve.app.create_app`` includes them all."""

from . import digits, graphs, pages, training

ROUTERS = (pages.router, graphs.router, digits.router, training.router)

__all__ = ["ROUTERS"]
