"""Rendered pages are cached per content version: fresh after every write, 304 when unchanged."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from paperwire.config import Settings
from paperwire.ingest.pipeline import import_paths
from paperwire.store.db import make_engine
from paperwire.web.app import create_app


def test_pages_follow_imports_and_answer_304_when_unchanged(
    settings: Settings, data_dir: Path
) -> None:
    engine = make_engine(settings)
    import_paths(engine, [data_dir / "hf-daily-papers" / "2025-10-06.json"])
    with TestClient(create_app(settings)) as client:
        first = client.get("/papers/date/2025-10-06")
        assert first.status_code == 200
        etag = first.headers["etag"]
        again = client.get("/papers/date/2025-10-06", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert client.get("/papers/date/2025-10-07").status_code == 404

        # another process (here: the same engine) imports the next day
        import_paths(engine, [data_dir / "hf-daily-papers" / "2025-10-07.json"])
        after = client.get("/papers/date/2025-10-06", headers={"If-None-Match": etag})
        assert after.status_code == 200  # the "next day" link changed
        assert 'rel="next" href="/papers/date/2025-10-07"' in after.text
        assert client.get("/papers/date/2025-10-07").status_code == 200
    engine.dispose()
