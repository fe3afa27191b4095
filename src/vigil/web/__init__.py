"""The web app: JSON API, server-rendered pages and the live stream."""

from vigil.web.app import BackgroundService, create_app

__all__ = ["BackgroundService", "create_app"]
