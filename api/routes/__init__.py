"""The JSON API's routes, one module per resource."""

from __future__ import annotations

from fastapi.responses import Response


def attachment(body: str, media_type: str, filename: str) -> Response:
    """A download: ``body`` as UTF-8 ``media_type`` that the browser saves as ``filename``."""
    return Response(body, media_type=f"{media_type}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})  # fmt: skip
