"""`importer serve`: the whole loop in the browser, a thin shell over the same library calls."""

from importer.web.app import Settings, create_app
from importer.web.server import serve

__all__ = ["Settings", "create_app", "serve"]
