"""``callqa serve``: the API and the pages."""

from __future__ import annotations

import gc

import click
import uvicorn

from api import create_app
from callqa.settings import Settings
from worker.tasks import queue_for


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
def serve(host: str, port: int) -> None:
    """The JSON API (OpenAPI at /docs) on the embedded defaults or the configured storage."""
    settings = Settings.from_env()
    app = create_app(settings, queue=lambda: queue_for(settings))
    # What start-up built lives as long as the server: the collector need not scan it again. Without
    # this, a full collection costs about 90 ms of some requests (p95 of the pages, bench/api.py).
    gc.freeze()
    # The app reads X-Forwarded-For itself, from CALLQA_TRUSTED_PROXIES only (uvicorn would
    # believe any process on this machine).
    uvicorn.run(app, host=host, port=port, proxy_headers=False)
