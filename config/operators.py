"""The operators' group: what an on-call person needs in the admin, the saga and its participants' records.

Staff in the group see orders, attempts, events, accounts, ledgers, currencies and exchanges,
and may steer attempts (force a rejection, retry a compensation: `checkout.change_saga`, ADR
0007). The scheduler's tables, idempotency records, the outbox, service keys, users and login
lockouts stay with superusers. Made after every migrate, so new models' permissions join it.
"""

from django.contrib.auth.models import Group, Permission

OPERATORS = "Operators"
VIEWED = {
    "orders": ["order", "orderline"],
    "checkout": ["saga", "sagaevent"],
    "points": ["pointaccount", "pointuse", "pointentry"],
    "exchanges": ["currency", "stockentry", "exchange", "exchangeline"],
}
CHANGED = {"checkout": ["saga"]}  # steering, through the saga's own services


def operators_group_ensure(**kwargs) -> Group:
    """The group with exactly these permissions (a post_migrate receiver: idempotent)."""
    wanted = [(app, f"view_{model}") for app, models in VIEWED.items() for model in models]
    wanted += [(app, f"change_{model}") for app, models in CHANGED.items() for model in models]
    permissions = [
        permission
        for permission in Permission.objects.filter(codename__in={codename for _, codename in wanted})
        if (permission.content_type.app_label, permission.codename) in wanted
    ]
    group, _ = Group.objects.get_or_create(name=OPERATORS)
    group.permissions.set(permissions)
    return group
