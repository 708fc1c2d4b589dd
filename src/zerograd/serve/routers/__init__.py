"""The server's routes, one ``APIRouter`` per page with its API; ``serve.app.create_app`` includes them all."""

from . import digits, graphs, pages, training, watch

ROUTERS = (pages.router, graphs.router, digits.router, training.router, watch.router)

__all__ = ["ROUTERS"]
