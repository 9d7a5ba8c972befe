"""The chosen organization's own price entries: add, list, delete."""

from __future__ import annotations

import logging
import uuid

import pandas as pd
import streamlit as st

from crypto_dash.services import price_entries
from crypto_dash.services.price_entries import PriceEntryView
from pages import _shared as shared

logger = logging.getLogger(__name__)

PAGER = "entry_page"
PENDING_DELETE = "entry_pending_delete"
EMPTY_FOR_EDITORS = "No price entries yet. Add the first one above."
EMPTY_FOR_VIEWERS = "No price entries yet. An editor or owner can add them."
ORDERINGS = {
    "Newest first": "-timestamp",
    "Oldest first": "timestamp",
    "Highest price first": "-price",
    "Lowest price first": "price",
    "Last added first": "-id",
}


def add_form(frame: shared.Frame, org_id: uuid.UUID) -> None:
    with st.form("entry_add", clear_on_submit=True):
        coin, price = st.columns(2)
        symbol = coin.text_input(
            "Coin", placeholder="BTC or bitcoin", key="entry_symbol"
        )
        amount = price.text_input("Price", placeholder="65000.12", key="entry_price")
        when = st.datetime_input(
            f"Time ({frame.zone_name}); leave empty for now",
            value=None,
            key="entry_time",
        )
        submitted = st.form_submit_button("Add entry", key="entry_add_submit")
    if not submitted:
        return
    entry = shared.attempt(
        lambda: price_entries.create_entry(
            frame.principal,
            frame.runtime.db,
            org_id,
            symbol,
            amount,
            shared.local_to_utc(when, frame.zone),
        )
    )
    if entry is not None:
        shared.flash(f"Added {entry.symbol} at {entry.price_text}.")
        st.rerun()


def entry_table(frame: shared.Frame, items: list[PriceEntryView]) -> None:
    rows = [
        {
            "ID": entry.id,
            "Coin": entry.symbol,
            "Price": entry.price_text,
            f"Time ({frame.zone_name})": shared.show_time(entry.timestamp, frame.zone),
        }
        for entry in items
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="entry_table")


def _label(entry: PriceEntryView, frame: shared.Frame) -> str:
    when = shared.show_time(entry.timestamp, frame.zone)
    return f"#{entry.id} {entry.symbol} {entry.price_text} at {when}"


def delete_picker(frame: shared.Frame, items: list[PriceEntryView]) -> None:
    by_id = {entry.id: entry for entry in items}
    pick, action = st.columns([3, 1], vertical_alignment="bottom")
    entry_id = pick.selectbox(
        "Entry on this page",
        list(by_id),
        format_func=lambda key: _label(by_id[key], frame),
        key="entry_delete_pick",
    )
    if action.button("Delete entry…", key="entry_delete"):
        st.session_state[PENDING_DELETE] = entry_id
    pending = st.session_state.get(PENDING_DELETE)
    if pending in by_id:
        confirm_delete(frame, by_id[pending])


def _cancel_delete() -> None:
    st.session_state.pop(PENDING_DELETE, None)


@st.dialog("Delete the price entry?", on_dismiss=_cancel_delete)
def confirm_delete(frame: shared.Frame, entry: PriceEntryView) -> None:
    st.markdown(f"**{_label(entry, frame)}** will be deleted for good.")
    delete, cancel = st.columns(2)
    if cancel.button("Cancel", key="entry_delete_cancel"):
        _cancel_delete()
        st.rerun()
    if delete.button("Delete entry", key="entry_delete_confirm", type="primary"):
        done = shared.succeeded(
            lambda: price_entries.delete_entry(
                frame.principal, frame.runtime.db, entry.id
            )
        )
        if done:
            _cancel_delete()
            shared.flash(f"Deleted entry #{entry.id} ({entry.symbol}).")
            st.rerun()


def render() -> None:
    frame = shared.frame()
    org = frame.org
    assert org is not None  # the page exists only when an organization is chosen
    shared.header(f"Price entries of {org.name}")
    if frame.can_edit:
        add_form(frame, org.id)
    ordering = ORDERINGS[
        st.selectbox(
            "Order",
            list(ORDERINGS),
            key="entry_order",
            on_change=shared.reset_pager(PAGER),
        )
    ]
    result = shared.load(
        lambda: shared.paged(
            PAGER,
            lambda page: price_entries.list_entries(
                frame.principal, frame.runtime.db, org.id, page, ordering
            ),
        )
    )
    if not result.total:
        st.info(EMPTY_FOR_EDITORS if frame.can_edit else EMPTY_FOR_VIEWERS)
        return
    entry_table(frame, result.items)
    shared.pager(PAGER, result, "entries")
    if frame.can_edit:
        delete_picker(frame, result.items)


render()
