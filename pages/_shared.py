"""What every page shares: the frame of this run, messages, times and pages.

The entry script builds a ``Frame`` on every run (who is signed in, their
organizations, the one chosen in the sidebar) and the pages read it from here,
so a page makes only the one service call it is about.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from crypto_dash.db.models import Role
from crypto_dash.errors import CryptoDashError
from crypto_dash.runtime import Runtime
from crypto_dash.services import organizations
from crypto_dash.services.organizations import OrganizationView
from crypto_dash.services.pagination import MAX_PAGE_SIZE, Page, PageRequest
from crypto_dash.services.principal import Principal

logger = logging.getLogger(__name__)

T = TypeVar("T")

PAGE_SIZE = 20
ORG_CHOICE = "org_choice"
ORG_SELECTOR = "org_selector"
FRAME = "frame"
FLASH = "flash"
PRICES_CHANGED = "prices_changed"
SIGN_IN_TICKET = "sign_in_ticket"
SIGNED_OUT = "signed_out"
MAX_ORG_PAGES = 50


@dataclass(frozen=True)
class Frame:
    """The signed-in user, their organizations and the chosen one, for this run."""

    runtime: Runtime
    principal: Principal
    organizations: list[OrganizationView]
    org: OrganizationView | None
    zone: tzinfo
    zone_name: str

    @property
    def can_edit(self) -> bool:
        """May add and delete the chosen organization's price entries."""
        return self.principal.is_admin or self._role_at_least(Role.EDITOR)

    @property
    def can_manage(self) -> bool:
        """May rename or delete the chosen organization and manage its members."""
        return self.principal.is_admin or self._role_at_least(Role.OWNER)

    def _role_at_least(self, needed: Role) -> bool:
        ranks = {Role.VIEWER: 1, Role.EDITOR: 2, Role.OWNER: 3}
        role = self.org.my_role if self.org else None
        return role is not None and ranks[role] >= ranks[needed]


def viewer_zone() -> tuple[tzinfo, str]:
    """The browser's time zone and its name, or UTC when it is unknown."""
    name = st.context.timezone
    if name:
        try:
            return ZoneInfo(name), name
        except (ZoneInfoNotFoundError, ValueError):
            logger.warning("unknown browser time zone %r; showing UTC", name)
    return UTC, "UTC"


def all_organizations(principal: Principal, runtime: Runtime) -> list[OrganizationView]:
    """The organizations the sidebar offers: the user's, or every one for admins."""
    found: list[OrganizationView] = []
    for number in range(1, MAX_ORG_PAGES + 1):
        page = organizations.list_organizations(
            principal,
            runtime.db,
            PageRequest(number, MAX_PAGE_SIZE),
            include_all=principal.is_admin,
        )
        found.extend(page.items)
        if not page.has_next:
            break
    return found


def choose_organization(orgs: list[OrganizationView]) -> OrganizationView | None:
    """Render the sidebar selector; the choice stays valid as the list changes."""
    if not orgs:
        st.session_state.pop(ORG_CHOICE, None)
        return None
    by_id = {str(org.id): org for org in orgs}
    choice = st.session_state.get(ORG_CHOICE)
    if choice not in by_id:
        choice = next(iter(by_id))
    st.session_state[ORG_CHOICE] = choice
    st.session_state[ORG_SELECTOR] = choice
    st.sidebar.selectbox(
        "Organization",
        list(by_id),
        key=ORG_SELECTOR,
        format_func=lambda org_id: _org_label(by_id[org_id]),
        on_change=_remember_choice,
    )
    return by_id[choice]


def _org_label(org: OrganizationView) -> str:
    return f"{org.name} ({org.my_role.value})" if org.my_role else org.name


def _remember_choice() -> None:
    st.session_state[ORG_CHOICE] = st.session_state[ORG_SELECTOR]


def switch_organization(org_id: uuid.UUID) -> None:
    """Make ``org_id`` the chosen organization from the next run on."""
    st.session_state[ORG_CHOICE] = str(org_id)


def frame() -> Frame:
    """The frame the entry script built for this run; stop if there is none.

    A page file run on its own (Streamlit's old pages/ mode, possible on a fresh
    server's first request) has no frame, and must show nothing.
    """
    current: Frame | None = st.session_state.get(FRAME)
    if current is None:
        st.error("Open crypto_dash from its start page and sign in.")
        st.stop()
    return current


def flash(message: str) -> None:
    """Show a success message on the next run (after ``st.rerun``)."""
    st.session_state.setdefault(FLASH, []).append(message)


def note_prices_changed() -> None:
    """Say that this session changed the watchlist or stored prices.

    The dashboard's short caches take this count in their key, so the user's
    own change shows at once rather than when the cached value expires.
    """
    st.session_state[PRICES_CHANGED] = prices_changed() + 1


def prices_changed() -> int:
    """How many times this session changed the watchlist or stored prices."""
    return int(st.session_state.get(PRICES_CHANGED, 0))


def header(title: str) -> None:
    """The page title, then any success left by the previous run."""
    st.title(title)
    for message in st.session_state.pop(FLASH, []):
        st.success(message)


def attempt(action: Callable[[], T]) -> T | None:
    """Run a service call; show its message and return None if it is refused."""
    try:
        return action()
    except CryptoDashError as exc:
        logger.info("refused: %s", exc.message)
        st.error(exc.message)
        return None


def succeeded(action: Callable[[], object]) -> bool:
    """``attempt`` for a call that returns nothing: did it go through?"""
    try:
        action()
    except CryptoDashError as exc:
        logger.info("refused: %s", exc.message)
        st.error(exc.message)
        return False
    return True


def load(action: Callable[[], T]) -> T:
    """Run the page's read; on a refusal show why and end the page there."""
    try:
        return action()
    except CryptoDashError as exc:
        st.error(exc.message)
        st.stop()


def paged(key: str, fetch: Callable[[PageRequest], Page[T]]) -> Page[T]:
    """Fetch the page the pager points at, or the last one if it points past it."""
    requested = st.session_state.get(key, 1)
    result = fetch(PageRequest(requested, PAGE_SIZE))
    if requested > result.pages:
        st.session_state[key] = result.pages
        result = fetch(PageRequest(result.pages, PAGE_SIZE))
    return result


def pager(key: str, result: Page[T], noun: str) -> None:
    """The page buttons (only when there is more than one page) and the count."""
    if result.pages > 1:
        st.pagination(result.pages, key=key)
    st.caption(
        f"{count(result.total, noun)} in all, page {result.page} of {result.pages}."
    )


def count(number: int, plural: str) -> str:
    """'1 entry', '2 entries': a count with its noun in the right number."""
    if number != 1:
        return f"{number} {plural}"
    singular = plural[:-3] + "y" if plural.endswith("ies") else plural.removesuffix("s")
    return f"1 {singular}"


def reset_pager(key: str) -> Callable[[], None]:
    """An on_change callback that sends the pager back to page 1."""

    def reset() -> None:
        st.session_state.pop(key, None)

    return reset


def show_time(value: datetime, zone: tzinfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def day_start(day: date | None, zone: tzinfo) -> datetime | None:
    """Midnight at the start of ``day`` in the viewer's zone, as a UTC time."""
    if day is None:
        return None
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def day_end(day: date | None, zone: tzinfo) -> datetime | None:
    """Midnight after ``day`` in the viewer's zone, as a UTC time."""
    return day_start(day + timedelta(days=1), zone) if day else None


def local_to_utc(value: datetime | None, zone: tzinfo) -> datetime | None:
    """A wall-clock time picked in the viewer's zone, as an aware UTC time."""
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=zone)
    return aware.astimezone(UTC)


# -- helpers of the market pages (watchlist, dashboard, history, scheduler) -------


def show_age(age: timedelta | None) -> str:
    """How old a price is, for a person: "45 s", "12 min", "3 h 5 min", "2 days"."""
    if age is None:
        return "-"
    seconds = max(0, int(age.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        hours, minutes = divmod(seconds // 60, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days = seconds // 86400
    return f"{days} day" if days == 1 else f"{days} days"


def show_optional_time(value: datetime | None, zone: tzinfo) -> str:
    return "-" if value is None else show_time(value, zone)


def show_amount(value: object) -> str:
    """A large amount (a market cap) with thousands separators, or "-"."""
    return "-" if value is None else f"{value:,.0f}"
