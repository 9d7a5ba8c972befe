"""Administration: the audit log, filtered by who, what, organization and dates."""

from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

from crypto_dash.services import audit
from crypto_dash.services.audit import AuditEntry
from pages import _shared as shared

logger = logging.getLogger(__name__)

PAGER = "audit_page"
ANY = "Any action"
# Offered in the list; any other action name can be typed in.
KNOWN_ACTIONS = [
    ANY,
    "organization.created",
    "organization.renamed",
    "organization.deleted",
    "member.added",
    "member.role_changed",
    "member.removed",
    "user.created",
    "user.enabled",
    "user.disabled",
    "user.made_admin",
    "user.admin_removed",
    "user.password_reset",
]


def filters(frame: shared.Frame) -> dict[str, object]:
    reset = shared.reset_pager(PAGER)
    who, what, org = st.columns(3)
    since, until = st.columns(2)
    action = what.selectbox(
        "What",
        KNOWN_ACTIONS,
        key="audit_what",
        accept_new_options=True,
        on_change=reset,
    )
    return {
        "actor_name": who.text_input(
            "Who (user name)", key="audit_who", on_change=reset
        ).strip(),
        "action": None if action in (None, ANY) else action,
        "organization": org.text_input(
            "Organization", key="audit_org", on_change=reset
        ).strip(),
        "since": shared.day_start(
            since.date_input("From", None, key="audit_from", on_change=reset),
            frame.zone,
        ),
        "until": shared.day_end(
            until.date_input("To", None, key="audit_to", on_change=reset), frame.zone
        ),
    }


def event_table(frame: shared.Frame, events: list[AuditEntry]) -> None:
    rows = [
        {
            f"Time ({frame.zone_name})": shared.show_time(
                event.occurred_at, frame.zone
            ),
            "Who": event.actor,
            "What": event.action,
            "Organization": event.organization_name or "-",
            "Details": ", ".join(f"{k}: {v}" for k, v in sorted(event.details.items())),
            # Last: an organization's id is a long UUID that would push the rest off.
            "Object": f"{event.object_type} {event.object_id}",
        }
        for event in events
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="audit_table")


def render() -> None:
    frame = shared.frame()
    shared.header("Audit log")
    chosen = filters(frame)
    result = shared.load(
        lambda: shared.paged(
            PAGER,
            lambda page: audit.list_events(
                frame.principal, frame.runtime.db, page, **chosen
            ),
        )
    )
    if not result.total:
        st.info("No audit events match these filters. Clear a filter to see more.")
        return
    event_table(frame, result.items)
    shared.pager(PAGER, result, "events")


render()
