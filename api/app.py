"""The application: settings read once, storage opened once, errors mapped to JSON in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from callqa.errors import CallqaError, InputError
from callqa.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    from api.routes import calls, health, jobs, managers, reviews, scripts
    from worker.pipeline import Context

    settings = settings or Settings.from_env()
    app = FastAPI(title="callqa", version="0.1.0", description="Sales-call quality analysis")
    app.state.context = Context.from_settings(settings)
    app.include_router(health.router)
    app.include_router(calls.router, prefix="/api")
    for module in (reviews, scripts, jobs, managers):
        app.include_router(module.router, prefix="/api")

    @app.exception_handler(InputError)
    async def _bad_input(_: Request, error: InputError) -> JSONResponse:
        return JSONResponse({"error": str(error)}, status_code=422)

    @app.exception_handler(CallqaError)
    async def _failure(_: Request, error: CallqaError) -> JSONResponse:
        return JSONResponse({"error": str(error)}, status_code=503)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, error: HTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": error.detail}, status_code=error.status_code, headers=error.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return JSONResponse(
            {"error": f"{where}: {first['msg']}", "details": error.errors()}, status_code=422
        )

    return app
