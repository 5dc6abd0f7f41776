"""The school's families and the portal (issue 20): every guardian with portal access to a child
at the school, and where each stands — joined, invited (by email or letter), not yet invited, no
email on file, or contact-restricted. Read by dashboard.views.invitations for the school's
principal and district staff, after accounts.access has let them open the school."""

from dataclasses import dataclass
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import Case, CharField, Count, Exists, OuterRef, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Invitation, User
from accounts.services import guardian_language
from students.models import (
    ContactDetail,
    ContactKind,
    Guardian,
    GuardianRelationship,
    School,
    Student,
    StudentSchoolMembership,
    in_force,
)

# Guardians listed on one page of the list.
GUARDIANS_PER_PAGE = 50

# Where a guardian stands, as the list's filter names it.
STATES = {
    "joined": _("Joined"),
    "invited": _("Invited"),
    "not_invited": _("Not invited yet"),
    "no_email": _("No email on file"),
    "restricted": _("Contact-restricted"),
}


@dataclass(frozen=True)
class GuardianRow:
    """One guardian on the list: their children at the school, their email on file, the
    language to write to them in, and their latest invitation."""

    guardian: Guardian
    state: str
    children: list[Student]
    email: str
    language: str
    invitation: Invitation | None

    @property
    def state_label(self) -> str:
        return str(STATES[self.state])

    @property
    def may_invite(self) -> bool:
        return self.state not in ("joined", "restricted")


@dataclass(frozen=True)
class SchoolGuardians:
    school: School
    state: str  # the filter ("" for every guardian)
    page: Page
    rows: list[GuardianRow]
    counts: dict[str, int]

    @property
    def filters(self) -> list[tuple[str, str, int]]:
        """Each state's key, name and count, in the list's order."""
        return [(key, str(label), self.counts.get(key, 0)) for key, label in STATES.items()]

    @property
    def state_label(self) -> str:
        return str(STATES[self.state]) if self.state else ""

    @property
    def children_shown(self) -> list[Student]:
        return [child for row in self.rows for child in row.children]


def _portal_relationships(school: School) -> QuerySet[GuardianRelationship]:
    """Relationships with portal access to a child at the school today."""
    at_school = StudentSchoolMembership.objects.filter(in_force(), school=school).values(
        "student_id"
    )
    return GuardianRelationship.objects.filter(
        is_active=True,
        portal_access=True,
        contact_restricted=False,
        student__is_active=True,
        student_id__in=at_school,
    )


def _guardians(school: School) -> QuerySet:
    """The school's guardians with portal access, each annotated with its state's parts."""
    now = timezone.now()
    return (
        Guardian.objects.filter(
            is_active=True,
            pk__in=_portal_relationships(school).values("guardian_id"),
        )
        .annotate(
            has_login=Exists(User.objects.filter(guardian_record=OuterRef("pk"))),
            has_pending=Exists(
                Invitation.objects.filter(
                    guardian=OuterRef("pk"),
                    accepted_at__isnull=True,
                    revoked_at__isnull=True,
                    expires_at__gt=now,
                )
            ),
            has_email=Exists(
                ContactDetail.objects.filter(
                    guardian=OuterRef("pk"), kind=ContactKind.EMAIL, is_active=True
                )
            ),
            restricted=Exists(
                GuardianRelationship.objects.filter(
                    guardian=OuterRef("pk"), is_active=True, contact_restricted=True
                )
            ),
        )
        .annotate(
            state=Case(
                When(has_login=True, then=Value("joined")),
                When(has_pending=True, then=Value("invited")),
                When(restricted=True, then=Value("restricted")),
                When(has_email=False, then=Value("no_email")),
                default=Value("not_invited"),
                output_field=CharField(),
            )
        )
        .select_related("user")
        .order_by("last_name", "first_name", "pk")
    )


def school_guardians(school: School, *, state: str = "", page: int = 1) -> SchoolGuardians:
    """One page of the school's guardians with portal access (filtered by `state`, a key of
    STATES, or all), with the count in each state. A fixed number of queries per page."""
    guardians = _guardians(school)
    counts = dict(
        guardians.order_by()
        .values_list("state")
        .annotate(count=Count("pk"))
        .values_list("state", "count")
    )
    listed = guardians.filter(state=state) if state else guardians
    shown = Paginator(listed, GUARDIANS_PER_PAGE).get_page(page)
    ids = [guardian.pk for guardian in shown.object_list]
    children: dict[int, list[Student]] = {}
    for relationship in (
        _portal_relationships(school)
        .filter(guardian_id__in=ids)
        .select_related("student")
        .order_by("student__first_name", "student__last_name", "student_id")
    ):
        children.setdefault(relationship.guardian_id, []).append(relationship.student)
    emails: dict[int, str] = {}
    for contact in ContactDetail.objects.filter(
        guardian_id__in=ids, kind=ContactKind.EMAIL, is_active=True
    ).order_by("-is_primary", "pk"):
        emails.setdefault(contact.guardian_id or 0, str(contact.value).strip())
    invitations: dict[int, Invitation] = {}
    for invitation in Invitation.objects.filter(guardian_id__in=ids).order_by("-created_at", "-pk"):
        invitations.setdefault(invitation.guardian_id, invitation)
    rows = [
        GuardianRow(
            guardian=guardian,
            state=guardian.state,
            children=children.get(guardian.pk, []),
            email=emails.get(guardian.pk, ""),
            language=guardian_language(guardian),
            invitation=invitations.get(guardian.pk),
        )
        for guardian in shown.object_list
    ]
    return SchoolGuardians(school=school, state=state, page=shown, rows=rows, counts=counts)


def school_guardian(school: School, guardian_id: int) -> GuardianRow | None:
    """One guardian of the school's list (None: not a guardian with portal access there)."""
    guardian = _guardians(school).filter(pk=guardian_id).first()
    if guardian is None:
        return None
    children = [
        relationship.student
        for relationship in _portal_relationships(school)
        .filter(guardian=guardian)
        .select_related("student")
        .order_by("student__first_name", "student_id")
    ]
    email = next(
        (
            str(contact.value).strip()
            for contact in ContactDetail.objects.filter(
                guardian=guardian, kind=ContactKind.EMAIL, is_active=True
            ).order_by("-is_primary", "pk")
        ),
        "",
    )
    return GuardianRow(
        guardian=guardian,
        state=guardian.state,
        children=children,
        email=email,
        language=guardian_language(guardian),
        invitation=Invitation.objects.filter(guardian=guardian).order_by("-created_at").first(),
    )


def invitation_expired(invitation: Invitation | None, now: datetime | None = None) -> bool:
    """Whether the guardian's latest invitation ran out unused (shown as such)."""
    if invitation is None or invitation.accepted_at is not None:
        return False
    return invitation.revoked_at is None and invitation.expires_at <= (now or timezone.now())
