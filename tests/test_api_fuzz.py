"""Schemathesis against the OpenAPI schema: whatever a client sends, no server error, and no
recording left on disk without its call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select

from api import create_app
from callqa.settings import Settings
from storage.models import Call
from storage.users import add_user


def test_no_server_errors_for_any_documented_request(tmp_path: Path) -> None:
    app = create_app(Settings.from_env({"CALLQA_DATA_DIR": str(tmp_path), "CALLQA_SCRIPT": "b2b_outbound"}))
    headers = {"Authorization": f"Bearer {add_user(app.state.context.sessions, 'fuzzer', 'admin')}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def no_server_error(case: Any) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
            )

        no_server_error()

    with app.state.context.sessions() as db:
        kept = [app.state.context.store.open_path(key) for key in db.scalars(select(Call.audio_key))]
    stray = [p for p in tmp_path.rglob("audio/**/*") if p.is_file()
             and not any(p == k or p.name.startswith(f"{k.name}.") for k in kept)]  # fmt: skip
    assert stray == []
