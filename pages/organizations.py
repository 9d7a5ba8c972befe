"""Organizations: list with search and filters, create, rename, delete."""

from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

from crypto_dash.services import organizations
from crypto_dash.services.organizations import OrganizationView, OrgOrdering
from pages import _shared as shared

logger = logging.getLogger(__name__)

PAGER = "org_page"
PENDING_DELETE = "org_pending_delete"
ROLE_FILTERS = {
    "Any role": None,
    "Owner": "owner",
    "Editor": "editor",
    "Viewer": "viewer",
}
ORDERINGS = {
    "Name, A to Z": OrgOrdering.NAME,
    "Name, Z to A": OrgOrdering.NAME_DESC,
    "Newest first": OrgOrdering.CREATED_DESC,
    "Oldest first": OrgOrdering.CREATED,
}


def create_form(frame: shared.Frame) -> None:
    with st.form("org_create", clear_on_submit=True):
        name = st.text_input("Name of the new organization", key="org_create_name")
        submitted = st.form_submit_button(
            "Create organization", key="org_create_submit"
        )
    if not submitted:
        return
    created = shared.attempt(
        lambda: organizations.create_organization(
            frame.principal, frame.runtime.db, name
        )
    )
    if created is not None:
        shared.switch_organization(created.id)
        shared.flash(f"Created {created.name}; you are its owner.")
        st.rerun()


def filters(frame: shared.Frame) -> dict[str, object]:
    reset = shared.reset_pager(PAGER)
    search, role, order = st.columns(3)
    since, until, everything = st.columns(3)
    chosen = {
        "search": search.text_input(
            "Search by name", key="org_search", on_change=reset
        ),
        "role": ROLE_FILTERS[
            role.selectbox(
                "Your role", list(ROLE_FILTERS), key="org_role", on_change=reset
            )
        ],
        "ordering": ORDERINGS[
            order.selectbox("Order", list(ORDERINGS), key="org_order", on_change=reset)
        ],
        "created_from": shared.day_start(
            since.date_input(
                "Created on or after", None, key="org_from", on_change=reset
            ),
            frame.zone,
        ),
        "created_to": shared.day_end(
            until.date_input(
                "Created on or before", None, key="org_to", on_change=reset
            ),
            frame.zone,
        ),
    }
    if frame.principal.is_admin:
        chosen["include_all"] = everything.toggle(
            "Every organization", key="org_all", on_change=reset
        )
    return chosen


def org_table(frame: shared.Frame, items: list[OrganizationView]) -> None:
    rows = [
        {
            "Name": org.name,
            "Your role": org.my_role.value if org.my_role else "-",
            "Members": org.member_count,
            f"Created ({frame.zone_name})": shared.show_time(
                org.created_at, frame.zone
            ),
        }
        for org in items
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="org_table")


def listing(frame: shared.Frame) -> None:
    st.subheader("Your organizations")
    chosen = filters(frame)
    result = shared.load(
        lambda: shared.paged(
            PAGER,
            lambda page: organizations.list_organizations(
                frame.principal, frame.runtime.db, page, **chosen
            ),
        )
    )
    if result.total:
        org_table(frame, result.items)
        shared.pager(PAGER, result, "organizations")
    elif frame.organizations:
        st.info("No organization matches these filters. Clear the search or dates.")
    else:
        st.info(
            "You are not in any organization yet. Create one above, or ask an "
            "organization's owner to add you."
        )


def rename_form(frame: shared.Frame, org: OrganizationView) -> None:
    with st.form("org_rename"):
        name = st.text_input("New name", value=org.name, key="org_rename_name")
        submitted = st.form_submit_button("Rename", key="org_rename_submit")
    if not submitted:
        return
    renamed = shared.attempt(
        lambda: organizations.rename_organization(
            frame.principal, frame.runtime.db, org.id, name
        )
    )
    if renamed is not None:
        shared.flash(f"Renamed {org.name} to {renamed.name}.")
        st.rerun()


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _cancel_delete() -> None:
    st.session_state.pop(PENDING_DELETE, None)


@st.dialog("Delete the organization?", on_dismiss=_cancel_delete)
def confirm_delete(frame: shared.Frame, org: OrganizationView) -> None:
    impact = shared.load(
        lambda: organizations.deletion_impact(frame.principal, frame.runtime.db, org.id)
    )
    parts = [
        _count(impact.members, "membership", "memberships"),
        _count(impact.price_entries, "price entry", "price entries"),
        _count(impact.watchlist_coins, "watchlist coin", "watchlist coins"),
    ]
    st.markdown(
        f"Deleting **{impact.name}** also deletes its {parts[0]}, {parts[1]} and "
        f"{parts[2]}. This cannot be undone."
    )
    delete, cancel = st.columns(2)
    if cancel.button("Cancel", key="org_delete_cancel"):
        _cancel_delete()
        st.rerun()
    if delete.button(f"Delete {impact.name}", key="org_delete_confirm", type="primary"):
        deleted = shared.attempt(
            lambda: organizations.delete_organization(
                frame.principal, frame.runtime.db, org.id
            )
        )
        if deleted is not None:
            _cancel_delete()
            shared.flash(f"Deleted {deleted.name} and everything in it.")
            st.rerun()


def manage(frame: shared.Frame) -> None:
    org = frame.org
    if org is None:
        return
    st.subheader(f"Manage {org.name}")
    if not frame.can_manage:
        st.caption(
            "Only the organization's owners can rename or delete it. "
            "Choose another organization in the sidebar."
        )
        return
    rename_form(frame, org)
    if st.button("Delete organization…", key="org_delete"):
        st.session_state[PENDING_DELETE] = str(org.id)
    if st.session_state.get(PENDING_DELETE) == str(org.id):
        confirm_delete(frame, org)


def render() -> None:
    frame = shared.frame()
    shared.header("Organizations")
    create_form(frame)
    listing(frame)
    manage(frame)


render()
