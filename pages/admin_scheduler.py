"""Administration: the price scheduler's status, "fetch now", the fetch runs."""

from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

from crypto_dash.scheduler.jobs import default_job
from crypto_dash.scheduler.runs import RunOutcome
from crypto_dash.services import scheduler_status
from crypto_dash.services.scheduler_status import RunView, SchedulerStatus
from pages import _shared as shared

logger = logging.getLogger(__name__)

PAGER = "runs_page"
KINDS = {"Every run": None, "Price fetches": "latest", "Backfills": "backfill"}


def _run_line(run: RunView, frame: shared.Frame) -> str:
    when = shared.show_time(run.started_at, frame.zone)
    return (
        f"{run.status} at {when} ({frame.zone_name}), {run.points_written} points, "
        f"{shared.count(run.calls_made, 'calls')}"
    )


def status_panel(frame: shared.Frame, status: SchedulerStatus) -> None:
    zone = frame.zone
    if status.leader:
        until = shared.show_optional_time(status.leader_until, zone)
        here = " (this process)" if status.this_process_leads else ""
        leader = f"**{status.leader}**{here}, lease held until {until}"
    else:
        leader = "no process leads right now (the scheduler is off or starting)"
    last = _run_line(status.last_run, frame) if status.last_run else "none yet"
    if status.next_run_at is None:
        upcoming = "unknown until a run has happened"
    else:
        estimate = " (estimated)" if status.next_run_is_estimate else ""
        upcoming = f"{shared.show_time(status.next_run_at, zone)}{estimate}"
    if status.last_error:
        error = status.last_error
        failure = f"{_run_line(error, frame)}: {error.error or 'no message'}"
    else:
        failure = "none"
    st.markdown(
        f"- Leader: {leader}\n"
        f"- Last run: {last}\n"
        f"- Next run ({frame.zone_name}): {upcoming}\n"
        f"- Last error: {failure}"
    )


def _outcome_message(outcome: RunOutcome) -> tuple[str, str]:
    """(kind, sentence) for the result of "fetch now"."""
    if not outcome.ran:
        who = outcome.busy_with or "another process"
        return "warning", f"A fetch is already running ({who}); try again when it ends."
    run = f"Fetch run #{outcome.run_id}"
    if outcome.status == "ok":
        return "success", f"{run} finished: prices are up to date."
    reason = (outcome.error or outcome.status).rstrip(".")
    kind = "error" if outcome.status == "failed" else "warning"
    return kind, f"{run} ended {outcome.status}: {reason}."


def fetch_button(frame: shared.Frame) -> None:
    if not st.button("Fetch now", key="fetch_now", type="primary"):
        return

    def run() -> RunOutcome:
        job = default_job(frame.runtime)
        try:
            return scheduler_status.fetch_now(frame.principal, frame.runtime.db, job)
        finally:
            job.close()

    with st.spinner("Fetching the latest prices…"):
        outcome = shared.attempt(run)
    if outcome is None:
        return
    if outcome.ran:
        shared.note_prices_changed()
    kind, message = _outcome_message(outcome)
    if kind == "success":
        shared.flash(message)
        st.rerun()
    getattr(st, kind)(message)


def runs_table(frame: shared.Frame, runs: list[RunView]) -> None:
    rows = [
        {
            "Run": run.id,
            "Kind": run.kind,
            "Status": run.status,
            f"Started ({frame.zone_name})": shared.show_time(
                run.started_at, frame.zone
            ),
            "Seconds": (
                None
                if run.finished_at is None
                else round((run.finished_at - run.started_at).total_seconds(), 1)
            ),
            "Coins": run.coins_requested,
            "Calls": run.calls_made,
            "Points": run.points_written,
            "Error": run.error or "",
            "Worker": run.worker or "",
        }
        for run in runs
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="runs_table")


def render() -> None:
    frame = shared.frame()
    shared.header("Scheduler")
    settings = frame.runtime.settings
    status = shared.load(
        lambda: scheduler_status.scheduler_status(
            frame.principal,
            frame.runtime.db,
            scheduler=frame.runtime.scheduler,
            interval_seconds=settings.fetch_interval_seconds,
        )
    )
    status_panel(frame, status)
    fetch_button(frame)
    st.subheader("Fetch runs")
    kind = KINDS[
        st.selectbox(
            "Show",
            list(KINDS),
            key="runs_kind",
            on_change=shared.reset_pager(PAGER),
        )
        or "Every run"
    ]
    result = shared.load(
        lambda: shared.paged(
            PAGER,
            lambda page: scheduler_status.list_fetch_runs(
                frame.principal, frame.runtime.db, page, kind=kind
            ),
        )
    )
    if not result.total:
        st.info("No fetch has run yet. Press Fetch now, or wait for the scheduler.")
        return
    runs_table(frame, result.items)
    shared.pager(PAGER, result, "runs")


render()
