"""Tenant isolation as a Hypothesis state machine, through services and the API.

Random sequences of users, organizations, memberships, role changes and price
entries run against a model of who belongs where. After every step each user
sees, through the JSON API and through the services, exactly the organizations
and entries of their own organizations, and every refused action leaves the
data as it was. ``CRYPTO_DASH_PROOF_SCALE`` multiplies the number of runs
(default 1: 5 sequences of up to 12 steps per backend; 40 gives the 200
sequences of the review checklist).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete

from crypto_dash.db.engine import Database
from crypto_dash.db.models import Base, Role
from crypto_dash.errors import NotFound, PermissionDenied, ValidationError
from crypto_dash.services import members, organizations, price_entries
from crypto_dash.services.pagination import PageRequest
from tests.api_support import bearer, make_client, make_runtime, sign_in
from tests.builders import make_user

SCALE = max(1, int(os.environ.get("CRYPTO_DASH_PROOF_SCALE", "1")))
RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.OWNER: 2}
ROLES = st.sampled_from([Role.VIEWER, Role.EDITOR, Role.OWNER])
EVERYTHING = PageRequest(page=1, size=100)


def empty_database(db: Database) -> None:
    with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))


def expected_status(role: Role | None, needed: Role, ok: int) -> int:
    """What the API answers a caller with ``role`` for an action needing ``needed``."""
    if role is None:
        return 404
    return ok if RANK[role] >= RANK[needed] else 403


def service_outcome(action: Callable[[], object]) -> str:
    try:
        action()
    except NotFound:
        return "missing"
    except PermissionDenied:
        return "forbidden"
    except ValidationError:
        return "invalid"
    return "ok"


def isolation_machine(db: Database, tmp_path) -> type[RuleBasedStateMachine]:
    client = make_client(make_runtime(db, tmp_path))

    class Isolation(RuleBasedStateMachine):
        users = Bundle("users")
        orgs = Bundle("orgs")
        entries = Bundle("entries")

        def __init__(self) -> None:
            super().__init__()
            empty_database(db)
            self.principals: dict[str, object] = {}
            self.tokens: dict[str, str] = {}
            self.members: dict[str, dict[str, Role]] = {}  # org id -> user -> role
            self.entry_org: dict[int, str] = {}
            self.counter = 0

        # -- helpers ------------------------------------------------------------

        def next_name(self, prefix: str) -> str:
            self.counter += 1
            return f"{prefix}{self.counter}"

        def role(self, user: str, org: str) -> Role | None:
            return self.members.get(org, {}).get(user)

        def api(self, user: str, method: str, url: str, **kwargs: object):
            if user not in self.tokens:
                self.tokens[user] = sign_in(client, user)["access"]
            response = client.request(
                method, url, headers=bearer(self.tokens[user]), **kwargs
            )
            assert response.status_code != 401, (user, url, response.text)
            assert response.status_code < 500, response.text
            return response

        def membership_changed(self, user: str) -> None:
            self.tokens.pop(user, None)  # the service ends that user's tokens

        # -- rules ----------------------------------------------------------------

        @initialize(target=users)
        def first_user(self) -> str:
            return self.add_user_now()

        def add_user_now(self) -> str:
            name = self.next_name("user")
            self.principals[name] = make_user(db, name)
            return name

        @precondition(lambda self: len(self.principals) < 5)
        @rule(target=users)
        def add_user(self) -> str:
            return self.add_user_now()

        @rule(target=orgs, owner=users)
        def create_org(self, owner: str) -> str:
            name = self.next_name("Org ")
            response = self.api(
                owner, "POST", "/api/organizations/", json={"name": name}
            )
            assert response.status_code == 201, response.text
            org = response.json()["id"]
            self.members[org] = {owner: Role.OWNER}
            return org

        @rule(org=orgs, actor=users, member=users, role=ROLES)
        def add_member(self, org: str, actor: str, member: str, role: Role) -> None:
            actor_role = self.role(actor, org)
            outcome = service_outcome(
                lambda: members.add_member(
                    self.principals[actor], db, org, member, role
                )
            )
            if org not in self.members or actor_role is None:
                assert outcome == "missing"
            elif actor_role != Role.OWNER:
                assert outcome == "forbidden"
            elif member in self.members[org]:
                assert outcome == "invalid"
            else:
                assert outcome == "ok"
                self.members[org][member] = role
                self.membership_changed(member)

        @rule(org=orgs, actor=users, member=users, role=ROLES)
        def change_role(self, org: str, actor: str, member: str, role: Role) -> None:
            actor_role = self.role(actor, org)
            target_id = self.principals[member].user_id
            outcome = service_outcome(
                lambda: members.change_role(
                    self.principals[actor], db, org, target_id, role
                )
            )
            if org not in self.members or actor_role is None:
                assert outcome == "missing"
                return
            if actor_role != Role.OWNER:
                assert outcome == "forbidden"
                return
            current = self.members[org].get(member)
            owners = sum(r == Role.OWNER for r in self.members[org].values())
            if current is None:
                assert outcome == "missing"
            elif current == Role.OWNER and role != Role.OWNER and owners == 1:
                assert outcome == "invalid"
            else:
                assert outcome == "ok"
                self.members[org][member] = role
                self.membership_changed(member)

        @rule(org=orgs, actor=users, member=users)
        def remove_member(self, org: str, actor: str, member: str) -> None:
            actor_role = self.role(actor, org)
            target_id = self.principals[member].user_id
            outcome = service_outcome(
                lambda: members.remove_member(
                    self.principals[actor], db, org, target_id
                )
            )
            if org not in self.members or actor_role is None:
                assert outcome == "missing"
                return
            if actor_role != Role.OWNER:
                assert outcome == "forbidden"
                return
            current = self.members[org].get(member)
            owners = sum(r == Role.OWNER for r in self.members[org].values())
            if current is None:
                assert outcome == "missing"
            elif current == Role.OWNER and owners == 1:
                assert outcome == "invalid"
            else:
                assert outcome == "ok"
                del self.members[org][member]
                self.membership_changed(member)

        @rule(target=entries, org=orgs, actor=users)
        def create_entry(self, org: str, actor: str) -> int:
            response = self.api(
                actor,
                "POST",
                "/api/crypto-prices/",
                json={"org_id": org, "symbol": "BTC", "price": "1.5"},
            )
            expected = expected_status(self.role(actor, org), Role.EDITOR, 201)
            assert response.status_code == expected, response.text
            if expected != 201:
                return -1
            entry = response.json()
            assert entry["org_id"] == org
            self.entry_org[entry["id"]] = org
            return entry["id"]

        @rule(entry=entries, actor=users)
        def delete_entry(self, entry: int, actor: str) -> None:
            org = self.entry_org.get(entry)
            response = self.api(actor, "DELETE", f"/api/crypto-prices/{entry}/")
            role = self.role(actor, org) if org else None
            expected = expected_status(role, Role.EDITOR, 204)
            assert response.status_code == expected, response.text
            if expected == 204:
                del self.entry_org[entry]

        @rule(org=orgs, actor=users)
        def rename_org(self, org: str, actor: str) -> None:
            response = self.api(
                actor,
                "PATCH",
                f"/api/organizations/{org}/",
                json={"name": self.next_name("Renamed ")},
            )
            expected = expected_status(self.role(actor, org), Role.OWNER, 200)
            assert response.status_code == expected, response.text

        @rule(org=orgs, actor=users)
        def delete_org(self, org: str, actor: str) -> None:
            response = self.api(actor, "DELETE", f"/api/organizations/{org}/")
            expected = expected_status(self.role(actor, org), Role.OWNER, 204)
            assert response.status_code == expected, response.text
            if expected == 204:
                for user in self.members.pop(org):
                    self.membership_changed(user)
                self.entry_org = {e: o for e, o in self.entry_org.items() if o != org}

        @rule(org=orgs, actor=users)
        def read_org(self, org: str, actor: str) -> None:
            by_id = self.api(actor, "GET", f"/api/organizations/{org}/")
            prices = self.api(actor, "GET", f"/api/crypto-prices/?org_id={org}")
            nowhere = self.api(actor, "GET", f"/api/organizations/{uuid.uuid4()}/")
            if self.role(actor, org) is None:
                assert by_id.status_code == prices.status_code == 404
                assert by_id.json() == nowhere.json()
            else:
                assert by_id.status_code == prices.status_code == 200
                listed = {e["id"] for e in prices.json()["results"]}
                assert listed == {e for e, o in self.entry_org.items() if o == org}

        # -- the invariant -------------------------------------------------------------

        @invariant()
        def everyone_sees_exactly_their_own_organizations(self) -> None:
            for user, principal in self.principals.items():
                mine = {org for org, who in self.members.items() if user in who}
                my_entries = {e for e, o in self.entry_org.items() if o in mine}
                orgs_api = self.api(user, "GET", "/api/organizations/?page_size=100")
                prices_api = self.api(user, "GET", "/api/crypto-prices/?page_size=100")
                orgs_svc = organizations.list_organizations(principal, db, EVERYTHING)
                prices_svc = price_entries.list_my_entries(principal, db, EVERYTHING)

                assert {o["id"] for o in orgs_api.json()["results"]} == mine
                assert {e["id"] for e in prices_api.json()["results"]} == my_entries
                assert {str(o.id) for o in orgs_svc.items} == mine
                assert {e.id for e in prices_svc.items} == my_entries
                assert all(str(e.org_id) in mine for e in prices_svc.items)

    return Isolation


def test_no_sequence_of_actions_lets_a_caller_see_or_change_another_org(db, tmp_path):
    machine = isolation_machine(db, tmp_path)

    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=5 * SCALE,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
        ),
    )
