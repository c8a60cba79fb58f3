"""The HTTP API (FastAPI; OpenAPI at /docs) and, next, the review pages.

uvicorn --factory api:create_app      # or: callqa serve
"""

from api.app import create_app

__all__ = ["create_app"]
