"""The one answer to "which units may this user see, and act on?".

Every page, API view, admin and export filters its querysets through
:func:`scope_for`. A role given at a unit reaches that unit and its whole subtree:

- ``office`` (领导小组办公室): sees, acts on and administers its subtree (at the
  school unit: the whole school) — units, rounds, findings, acceptance.
- ``manager``: sees and acts on its own unit's subtree.
- ``reviewer``: sees its subtree, read-only.

Superusers are treated as the office of every unit; anonymous users see nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from .models import Membership, Unit

Role = Membership.Role

_SEE = (Role.OFFICE, Role.MANAGER, Role.REVIEWER)
_ACT = (Role.OFFICE, Role.MANAGER)
_ADMINISTER = (Role.OFFICE,)


@dataclass
class Scope:
    """What one user may reach. Build it with :func:`scope_for`."""

    user: AbstractBaseUser | AnonymousUser
    everything: bool = False
    roots: dict[str, frozenset[int]] = field(default_factory=dict)

    def _units(self, roles: Iterable[str]) -> QuerySet[Unit]:
        if self.everything:
            return Unit.objects.all()
        root_ids = set().union(*(self.roots.get(role, frozenset()) for role in roles))
        if not root_ids:
            return Unit.objects.none()
        return Unit.objects.subtree_of(sorted(root_ids))

    def visible_units(self) -> QuerySet[Unit]:
        """Units whose data this user may read."""
        return self._units(_SEE)

    def actionable_units(self) -> QuerySet[Unit]:
        """Units whose work (commitments, tasks, evidence) this user may change."""
        return self._units(_ACT)

    def managed_units(self) -> QuerySet[Unit]:
        """Units this user answers for as a unit manager (not as the office)."""
        return self._units((Role.MANAGER,))

    def administered_units(self) -> QuerySet[Unit]:
        """Units this user runs as the office: the tree, rounds, findings, acceptance."""
        return self._units(_ADMINISTER)

    @property
    def is_authenticated(self) -> bool:
        return bool(self.user and self.user.is_authenticated)

    @property
    def is_office(self) -> bool:
        return self.everything or bool(self.roots.get(Role.OFFICE))

    @property
    def sees_whole_school(self) -> bool:
        """Office and reviewers: the school-wide views (overview, ledger)."""
        return self.everything or bool(
            self.roots.get(Role.OFFICE) or self.roots.get(Role.REVIEWER)
        )

    def administers_all(self) -> bool:
        """Office of every root: may change anything in the tree (e.g. import a file)."""
        if self.everything:
            return True
        if not self.is_office:
            return False
        roots = Unit.objects.filter(parent__isnull=True)
        return not roots.exclude(pk__in=self.administered_units()).exists()

    def can_view(self, unit: Unit | int) -> bool:
        return self._contains(self.visible_units(), unit)

    def can_act(self, unit: Unit | int) -> bool:
        return self._contains(self.actionable_units(), unit)

    def manages(self, unit: Unit | int) -> bool:
        """A unit manager of this unit (superusers are the office, not managers)."""
        if self.everything:
            return False
        pk = unit.pk if isinstance(unit, Unit) else unit
        return self.managed_units().filter(pk=pk).exists()

    def can_administer(self, unit: Unit | int) -> bool:
        return self._contains(self.administered_units(), unit)

    def _contains(self, units: QuerySet[Unit], unit: Unit | int) -> bool:
        if self.everything:
            return True
        pk = unit.pk if isinstance(unit, Unit) else unit
        return units.filter(pk=pk).exists()


def scope_for(user: AbstractBaseUser | AnonymousUser | None) -> Scope:
    """The user's scope, built once per user object (one query) and cached on it."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Scope(user=user or AnonymousUser())
    cached = getattr(user, "_unit_scope", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        scope = Scope(user=user, everything=True)
    else:
        roots: dict[str, set[int]] = {}
        memberships = Membership.objects.filter(user=user, unit__active=True)
        for role, unit_id in memberships.values_list("role", "unit_id"):
            roots.setdefault(role, set()).add(unit_id)
        scope = Scope(
            user=user, roots={role: frozenset(ids) for role, ids in roots.items()}
        )
    user._unit_scope = scope
    return scope
