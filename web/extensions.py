"""Flask extensions, created once and bound to each app in ``create_app``."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from ged.bootstrap import Container

login_manager = LoginManager()
csrf = CSRFProtect()


def client_address() -> str:
    """The caller's address; X-Forwarded-For counts only behind configured trusted proxies."""
    return request.remote_addr or "unknown"


limiter = Limiter(key_func=client_address)


def container(app: Flask | None = None) -> Container:
    found: Container = (app or current_app).extensions["ged"]
    return found
