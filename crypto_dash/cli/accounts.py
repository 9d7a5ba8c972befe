"""Sub-commands for the database, users, organizations and members."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from crypto_dash.errors import ValidationError
from crypto_dash.runtime import open_runtime
from crypto_dash.services import members, organizations, users
from crypto_dash.services.passwords import check_password_rules
from crypto_dash.services.principal import Principal
from crypto_dash.settings import Settings

SYSTEM = Principal.system()


def register(commands: Any) -> None:
    migrate = commands.add_parser(
        "migrate", help="Create or upgrade the database schema."
    )
    migrate.set_defaults(handler=run_migrate)

    for name, admin in (("create-admin", True), ("create-user", False)):
        kind = "an administrator" if admin else "a user"
        parser = commands.add_parser(
            name, help=f"Create {kind}; asks for the password."
        )
        parser.add_argument("username")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from the first line of standard input.",
        )
        parser.set_defaults(handler=run_create_user, admin=admin)

    org = commands.add_parser(
        "create-org", help="Create an organization with an owner."
    )
    org.add_argument("name")
    org.add_argument("--owner", required=True, metavar="USERNAME")
    org.set_defaults(handler=run_create_org)

    member = commands.add_parser("add-member", help="Add a user to an organization.")
    member.add_argument("org", metavar="ORG", help="Organization name or id.")
    member.add_argument("username")
    member.add_argument("role", choices=["owner", "editor", "viewer"])
    member.set_defaults(handler=run_add_member)


def run_migrate(args: argparse.Namespace, settings: Settings) -> int:
    runtime = open_runtime(settings)
    print(f"database is up to date ({settings.redacted()['database_url']})")
    runtime.close()
    return 0


def read_password(from_stdin: bool) -> str:
    """Ask twice on the terminal, or read one line from standard input."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        return check_password_rules(password)
    if not sys.stdin.isatty():
        raise ValidationError.for_field(
            "password",
            "No terminal to ask for the password on; pipe it in with --password-stdin.",
        )
    password = getpass.getpass("Password: ")
    check_password_rules(password)
    if getpass.getpass("Password (again): ") != password:
        raise ValidationError.for_field("password", "The two passwords differ.")
    return password


def run_create_user(args: argparse.Namespace, settings: Settings) -> int:
    password = read_password(args.password_stdin)
    runtime = open_runtime(settings)
    user = users.create_user(
        SYSTEM,
        runtime.db,
        args.username,
        password,
        is_admin=args.admin,
        rounds=settings.bcrypt_rounds,
    )
    kind = "administrator" if user.is_admin else "user"
    print(f"created {kind} {user.username}")
    return 0


def find_org(runtime: Any, name_or_id: str) -> organizations.OrganizationView:
    """Find an organization by exact id or by name, case-insensitively."""
    db = runtime.db
    try:
        return organizations.get_organization(SYSTEM, db, name_or_id)
    except Exception:  # noqa: BLE001 - not an id; try it as a name
        pass
    found = organizations.list_organizations(
        SYSTEM, db, search=name_or_id, include_all=True
    )
    for org in found.items:
        if org.name.casefold() == name_or_id.strip().casefold():
            return org
    raise ValidationError.for_field("org", f"There is no organization {name_or_id!r}.")


def run_create_org(args: argparse.Namespace, settings: Settings) -> int:
    runtime = open_runtime(settings)
    owner = users.find_user(SYSTEM, runtime.db, args.owner)
    org = organizations.create_organization(
        SYSTEM, runtime.db, args.name, owner_id=owner.id
    )
    print(f"created organization {org.name} ({org.id}) owned by {owner.username}")
    return 0


def run_add_member(args: argparse.Namespace, settings: Settings) -> int:
    runtime = open_runtime(settings)
    org = find_org(runtime, args.org)
    member = members.add_member(SYSTEM, runtime.db, org.id, args.username, args.role)
    print(f"added {member.username} to {org.name} as {member.role.value}")
    return 0
