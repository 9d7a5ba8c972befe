"""Contention: eight dashboard sessions and the ingestion writer, for 5 seconds.

The same workload as ``bench/contention.py`` (which runs it for 30 s and prints
the latencies): sessions read then write through the services while the
scheduler's write path stores a point every 100 ms. Nothing may fail with
"database is locked", and every acknowledged write must be there afterwards.
"""

from __future__ import annotations

import os

from bench.contention import run_contention

SECONDS = 5 * max(1, int(os.environ.get("CRYPTO_DASH_PROOF_SCALE", "1")))


def test_sessions_and_the_writer_never_hit_a_locked_database_or_lose_a_write(db):
    outcome = run_contention(db, SECONDS)

    assert outcome.errors == []
    assert len(outcome.entry_ids) > 8
    assert len(outcome.point_times) >= SECONDS * 5
    assert (outcome.missing_entries, outcome.missing_points) == (0, 0)
