"""Contention: eight dashboard sessions and the ingestion writer, 30 s on SQLite.

The same workload as ``bench/contention.py`` (which prints the latencies):
sessions read then write through the services while the
scheduler's write path stores a point every 100 ms. Nothing may fail with
"database is locked", and every acknowledged write must be there afterwards.
"""

from __future__ import annotations

import os

from bench.contention import run_contention

SCALE = max(1, int(os.environ.get("CRYPTO_DASH_PROOF_SCALE", "1")))
# SQLite is where "database is locked" lives: it gets the checklist's 30 s.
SECONDS = {"sqlite": 30 * SCALE, "postgresql": 5 * SCALE}


def test_sessions_and_the_writer_never_hit_a_locked_database_or_lose_a_write(
    db, backend
):
    seconds = SECONDS[backend]

    outcome = run_contention(db, seconds)

    assert outcome.errors == []
    assert len(outcome.entry_ids) > 8
    assert len(outcome.point_times) >= seconds * 5
    assert (outcome.missing_entries, outcome.missing_points) == (0, 0)
