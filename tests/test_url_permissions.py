"""Every page of ours, for every role, both ways: anonymous → login, own object → 200,
someone else's → 404. Cases are generated from the URL configuration: a new page without a
case here fails the suite."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import User
from accounts.services import invitation_create
from students.models import District, GuardianRelationship, Relationship, Section, Student
from tests import factories
from tests.conftest import World, privacy_officer_of
from tests.portal import rights_data

if TYPE_CHECKING:
    from lessons.models import LessonPlan

# URL prefixes that belong to libraries with their own tests (login, MFA, admin).
LIBRARY_PREFIXES = ("admin/", "accounts/", "static/")


def our_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list, prefix: str, namespace: str) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if route.startswith(LIBRARY_PREFIXES):
                continue
            if isinstance(entry, URLResolver):
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, route, ns)
            elif isinstance(entry, URLPattern) and entry.name:
                names.add(namespace + entry.name)

    walk(get_resolver().url_patterns, "", "")
    return names


@dataclass
class Case:
    """own: role → the object id that role may see; others: role → an id it may not. An action
    that only takes a POST (`post`: the form it is sent) is posted instead: its own answer is the
    redirect back (302), everyone else's a 404."""

    own: Callable[[World], dict[str, object]] = lambda w: {}
    others: Callable[[World], dict[str, object]] = lambda w: {}
    needs_login: bool = True
    no_object_roles: list[str] = field(default_factory=list)
    post: Callable[[World], dict[str, object]] | None = None

    def request(self, client: Client, world: World, url: str) -> Any:  # the test client's
        if self.post is not None:
            return client.post(url, self.post(world))
        return client.get(url)

    @property
    def own_status(self) -> int:
        return 302 if self.post is not None else 200


SECTION_CASE = Case(
    own=lambda w: {
        "teacher": w.section.pk,
        "principal": w.section.pk,
        "district_staff": w.section.pk,
    },
    others=lambda w: {
        "teacher": w.other_section.pk,
        "principal": w.other_school_section.pk,
        "district_staff": 999_999,
        # A roster shows other children: guardians never see one, not even their child's.
        "guardian": w.section.pk,
        "outsider": w.section.pk,
    },
)


STANDARD_CASE = Case(
    own=lambda w: {
        role: {"pk": w.section.pk, "standard_id": w.standard.pk}
        for role in ("teacher", "principal", "district_staff")
    },
    others=lambda w: {
        "teacher": {"pk": w.other_section.pk, "standard_id": w.standard.pk},
        "principal": {"pk": w.other_school_section.pk, "standard_id": w.standard.pk},
        "district_staff": {"pk": 999_999, "standard_id": w.standard.pk},
        "guardian": {"pk": w.section.pk, "standard_id": w.standard.pk},
        "outsider": {"pk": w.section.pk, "standard_id": w.standard.pk},
    },
)


def _student_standard(section: Section, student: Student, w: World) -> dict[str, object]:
    return {"pk": section.pk, "student_id": student.pk, "standard_id": w.standard.pk}


STUDENT_STANDARD_CASE = Case(
    own=lambda w: {
        role: _student_standard(w.section, w.student, w)
        for role in ("teacher", "principal", "district_staff")
    },
    others=lambda w: {
        "teacher": _student_standard(w.other_section, w.other_section_student, w),
        "principal": _student_standard(w.other_school_section, w.other_school_student, w),
        "district_staff": {"pk": 999_999, "student_id": w.student.pk, "standard_id": 1},
        # A guardian sees their child's profile, never a section's pages.
        "guardian": _student_standard(w.section, w.student, w),
        "outsider": _student_standard(w.section, w.student, w),
    },
)

STUDENT_CASE = Case(
    own=lambda w: {
        "teacher": w.student.pk,
        "principal": w.student.pk,
        "district_staff": w.student.pk,
        "guardian": w.student.pk,
    },
    others=lambda w: {
        "teacher": w.other_section_student.pk,
        "principal": w.other_school_student.pk,
        "district_staff": 999_999,
        "guardian": w.classmate.pk,
        "outsider": w.student.pk,
    },
)


def _import_run(world: World) -> int:
    from interop.models import ImportRun

    return ImportRun.objects.create(district=world.district, format="oneroster").pk


IMPORT_RUN_CASE = Case(
    own=lambda w: {"district_staff": _import_run(w)},
    others=lambda w: {
        "district_staff": 999_999,
        **{role: _import_run(w) for role in ("teacher", "principal", "guardian", "outsider")},
    },
)


# A child's pages in the family portal: their guardian only; staff who see the child on another
# basis get 404 there (tests/portal/test_child_pages.py adds the contact-restricted guardian).
CHILD_CASE = Case(
    own=lambda w: {"guardian": w.student.pk},
    others=lambda w: {
        "guardian": w.classmate.pk,
        "teacher": w.student.pk,
        "principal": w.student.pk,
        "district_staff": w.student.pk,
        "outsider": w.student.pk,
    },
)


def users_by_role(world: World) -> dict[str, User]:
    """The world's users by role, and the home district's privacy officer (the rights pages)."""
    return {**world.users_by_role(), "privacy_officer": privacy_officer_of(world)}


# The privacy office's pages (issue 21): the district's privacy officer only; every other role,
# district staff without the role included, gets 404 (tests/dashboard/test_privacy_office.py).
OTHER_ROLES = ("teacher", "principal", "district_staff", "guardian", "outsider")
PRIVACY_OFFICE_CASE = Case(
    no_object_roles=["privacy_officer"],
    others=lambda w: {role: None for role in OTHER_ROLES},
)


def _privacy_office_case(make: Callable[[District, Student], int]) -> Case:
    """A record of the office's: its own district's for the officer; another district's is 404
    to them, and their district's to everyone else."""
    return Case(
        own=lambda w: {"privacy_officer": make(w.district, w.student)},
        others=lambda w: {
            "privacy_officer": make(w.other_district, w.other_district_student),
            **{role: make(w.district, w.student) for role in OTHER_ROLES},
        },
    )


def _inspection_request(district: District, student: Student) -> int:
    import datetime as dt

    from rights.models import InspectionRequest

    return InspectionRequest.objects.create(
        district=district, student=student, user_label="parent", due_on=dt.date(2026, 10, 1)
    ).pk


def _amendment_request(district: District, student: Student) -> int:
    from rights.models import AmendmentRequest

    return AmendmentRequest.objects.create(
        district=district,
        student=student,
        user_label="parent",
        category="student",
        record_label="Birth date",
        contested_value="2016-01-01",
        reason="Not the right day.",
    ).pk


def _consent_request(district: District, student: Student) -> int:
    from rights.models import ConsentRequest, Recipient

    recipient, _ = Recipient.objects.get_or_create(district=district, name="Case recipient")
    return ConsentRequest.objects.create(
        district=district,
        recipient=recipient,
        purpose="Tutoring",
        categories=["grades"],
        records_description="Grades",
        for_all_students=True,
    ).pk


def _notice_draft(district: District, student: Student) -> int:
    from rights.models import AnnualNotice

    return AnnualNotice.objects.create(
        district=district, school_year=2027, title="Notice", body="Your rights."
    ).pk


# The family portal's rights pages (issue 21): the parent's child only; staff, the privacy
# officer and anyone else get 404 there (the office has its own pages).
NOT_THE_FAMILY = ("teacher", "principal", "district_staff", "outsider", "privacy_officer")
RIGHTS_CHILD_CASE = Case(
    own=CHILD_CASE.own,
    others=lambda w: {**CHILD_CASE.others(w), "privacy_officer": w.student.pk},
)


def _rights_row_case(make: Callable[[World], dict[str, object]]) -> Case:
    """A page about one of the child's rights rows, made as the parent would make it: theirs;
    the row under the classmate's id is 404 to them, and the row is 404 to everyone else."""
    return Case(
        own=lambda w: {"guardian": {"pk": w.student.pk, **make(w)}},
        others=lambda w: {
            "guardian": {"pk": w.classmate.pk, **make(w)},
            **{role: {"pk": w.student.pk, **make(w)} for role in NOT_THE_FAMILY},
        },
    )


def world_plan(w: World, section: Section | None = None) -> "LessonPlan":
    """A lesson plan of the section (the world's own by default), tomorrow, on the world's
    standard, with Practice (Ada) and Extend groups: the planner pages' object, made once."""
    import datetime as dt

    from django.utils import timezone

    from lessons.models import GroupKind, LessonPlan, PlanGroup, PlanGroupMember

    section = section or w.section
    plan = LessonPlan.objects.filter(section=section).order_by("pk").first()
    if plan is None:
        day = timezone.localdate() + dt.timedelta(days=1)
        plan = LessonPlan.objects.create(section=section, first_day=day, last_day=day)
        plan.standards.add(w.standard)
        practice = PlanGroup.objects.create(
            plan=plan, name="Practice", kind=GroupKind.PRACTICE, standard=w.standard
        )
        PlanGroup.objects.create(
            plan=plan, name="Extend", kind=GroupKind.EXTEND, standard=w.standard, position=1
        )
        if section == w.section:
            PlanGroupMember.objects.create(
                plan=plan, group=practice, student=w.student, level_at_placement=2
            )
    return plan


def _plan_case(
    post: Callable[[World], dict[str, object]] | None = None,
    extra: Callable[[World], dict[str, object]] = lambda w: {},
) -> Case:
    """A plan's page (its teacher and the school's principal read it) or, with `post`, one of
    its actions (its teachers only: the principal, who reads it, gets 404 too)."""

    def at(w: World, section: Section | None = None) -> dict[str, object]:
        return {"pk": world_plan(w, section).pk, **extra(w)}

    readers = ("teacher",) if post is not None else ("teacher", "principal")
    return Case(
        own=lambda w: {role: at(w) for role in readers},
        others=lambda w: {
            "teacher": at(w, w.other_section),
            "principal": at(w) if post is not None else at(w, w.other_school_section),
            "district_staff": at(w),
            "guardian": at(w),
            "outsider": at(w),
        },
        post=post,
    )


def _plan_group(w: World, kind: str) -> int:
    from lessons.models import PlanGroup

    return PlanGroup.objects.get(plan=world_plan(w), kind=kind).pk


# Lesson plan pages (issue 22): a file of the plan (stored under a temporary MEDIA_ROOT, as
# _lesson_media sets) and a template of the section's teacher.
PLAN_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _lesson_media(settings: object, tmp_path: object) -> None:
    """Plan materials the cases make are kept under the test's own folder."""
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]


def world_plan_material(w: World, section: Section | None = None) -> dict[str, object]:
    """The kwargs of a file material of the section's plan (world_plan), made once."""
    from django.core.files.base import ContentFile

    from lessons.models import PlanMaterial

    plan = world_plan(w, section)
    material = PlanMaterial.objects.filter(plan=plan).exclude(file="").first()
    if material is None:
        material = PlanMaterial(
            plan=plan, original_name="slides.pdf", content_type="application/pdf"
        )
        material.file.save("material", ContentFile(PLAN_PDF), save=False)
        material.size = len(PLAN_PDF)
        material.save()
    return {"pk": plan.pk, "material_id": material.pk}


def _plan_editor_page(
    at: Callable[[World, Section | None], dict[str, object] | int] = lambda w, s: (
        world_plan(w, s).pk
    ),
) -> Case:
    """A plan's page that changes it (its form or "ask first" page, which its form posts back
    to): its teachers only; the principal, who reads the plan, gets 404 too, as do the others
    (tests/dashboard/test_planner_plans.py posts to each)."""
    return Case(
        own=lambda w: {"teacher": at(w, None)},
        others=lambda w: {
            "teacher": at(w, w.other_section),
            "principal": at(w, None),
            "district_staff": at(w, None),
            "guardian": at(w, None),
            "outsider": at(w, None),
        },
    )


def world_template(user: User) -> int:
    """A lesson template of the user's own (made once)."""
    from lessons.models import PlanTemplate

    template, _ = PlanTemplate.objects.get_or_create(owner=user, name="Fractions day")
    return template.pk


CASES: dict[str, Case] = {
    # A guardian who is only a guardian is sent to the portal (tests/portal/test_child_pages.py).
    "home": Case(no_object_roles=["teacher", "principal", "district_staff", "outsider"]),
    "students:section_detail": SECTION_CASE,
    # A guardian opening it is sent to the child's portal page (tests/portal/test_child_pages.py).
    "students:student_detail": Case(
        own=lambda w: {
            "teacher": w.student.pk,
            "principal": w.student.pk,
            "district_staff": w.student.pk,
        },
        others=lambda w: {
            "teacher": w.other_section_student.pk,
            "principal": w.other_school_student.pk,
            "district_staff": 999_999,
            "guardian": w.classmate.pk,
            "outsider": w.student.pk,
        },
    ),
    "students:school_detail": Case(
        own=lambda w: {"principal": w.school.pk, "district_staff": w.school.pk},
        others=lambda w: {
            "principal": w.other_school.pk,
            "district_staff": 999_999,
            "teacher": w.school.pk,
            "guardian": w.school.pk,
            "outsider": w.school.pk,
        },
    ),
    # The school report's drill-down list of the students a count counts: the school's
    # principal and district staff only (teachers and guardians 404 on every rollup URL).
    "dashboard:school_counted_students": Case(
        own=lambda w: {"principal": w.school.pk, "district_staff": w.school.pk},
        others=lambda w: {
            "principal": w.other_school.pk,
            "district_staff": 999_999,
            "teacher": w.school.pk,
            "guardian": w.school.pk,
            "outsider": w.school.pk,
        },
    ),
    # The district's schools side by side: its district staff only.
    "dashboard:district_schools": Case(
        own=lambda w: {"district_staff": w.district.pk},
        others=lambda w: {
            "district_staff": 999_999,
            "principal": w.district.pk,
            "teacher": w.district.pk,
            "guardian": w.district.pk,
            "outsider": w.district.pk,
        },
    ),
    # Dated exceptions at the school: its principal and district staff only.
    "students:school_substitutes": Case(
        own=lambda w: {"principal": w.school.pk, "district_staff": w.school.pk},
        others=lambda w: {
            "principal": w.other_school.pk,
            "district_staff": 999_999,
            "teacher": w.school.pk,
            "guardian": w.school.pk,
            "outsider": w.school.pk,
        },
    ),
    # The same audience as the roster: whoever may see the section sees its assessments.
    "assessments:section_assessments": SECTION_CASE,
    # Score entry: only the section's teacher. Principals may see the section but not score it
    # (403, tested in tests/assessments); everyone else gets 404.
    "assessments:score_grid": Case(
        own=lambda w: {"teacher": (w.section.pk, w.assessment.pk)},
        others=lambda w: {
            "teacher": (w.other_section.pk, w.other_assessment.pk),
            "district_staff": (999_999, w.assessment.pk),
            "guardian": (w.section.pk, w.assessment.pk),
            "outsider": (w.section.pk, w.assessment.pk),
        },
    ),
    # Imports: district staff only; everyone else 404 (tests/interop/test_upload_page.py).
    "interop:import_upload": Case(
        no_object_roles=["district_staff"],
        others=lambda w: {role: None for role in ("teacher", "principal", "guardian", "outsider")},
    ),
    "interop:import_run": IMPORT_RUN_CASE,
    "interop:import_run_status": IMPORT_RUN_CASE,
    # Public by design: the invitation link is the credential. Tested in tests/accounts.
    "invitation_accept": Case(needs_login=False),
    # Public by design: a letter's code is the credential (tests/accounts/test_invitations.py).
    "invitation_redeem": Case(needs_login=False, no_object_roles=["outsider"]),
    # Families and the portal (invitations): the school's principal and district staff only.
    "students:school_invitations": Case(
        own=lambda w: {"principal": w.school.pk, "district_staff": w.school.pk},
        others=lambda w: {
            "principal": w.other_school.pk,
            "district_staff": 999_999,
            "teacher": w.school.pk,
            "guardian": w.school.pk,
            "outsider": w.school.pk,
        },
    ),
    # A guardian's own preferences: guardians who follow a child; staff and others 404
    # (tests/portal/test_preferences.py adds the contact-restricted guardian).
    "portal:preferences": Case(
        no_object_roles=["guardian"],
        others=lambda w: {
            role: None for role in ("teacher", "principal", "district_staff", "outsider")
        },
    ),
    # Public by design: an alert email's signed link is the credential (tests/alerts).
    "portal:unsubscribe": Case(needs_login=False),
    # Anyone may choose the pages' language; POST only (tests/portal/test_language.py).
    "set_language": Case(needs_login=False),
    # Public by design too: the emailed two-factor enrolment link proves the mailbox
    # (tests/accounts/test_mfa_enrolment.py tries it used, expired, replaced and unknown).
    "mfa_enrolment_accept": Case(needs_login=False),
    # What staff who must enrol are told to do; says "nothing to do" to everyone else.
    "mfa_enrolment_needed": Case(
        no_object_roles=["teacher", "principal", "district_staff", "guardian", "outsider"]
    ),
    # The top bar's student search: whoever sees rosters; a guardian has only their children
    # (tests/dashboard/test_search.py tries who finds whom).
    "dashboard:search": Case(
        no_object_roles=["teacher", "principal", "district_staff"],
        others=lambda w: {"guardian": None, "outsider": None},
    ),
    # The teacher dashboard (tests/dashboard has the roles' details): the section's audience.
    "dashboard:section_csv": SECTION_CASE,
    "dashboard:section_distribution_csv": SECTION_CASE,
    "dashboard:section_changes": SECTION_CASE,
    "dashboard:standard_detail": STANDARD_CASE,
    "dashboard:standard_csv": STANDARD_CASE,
    "dashboard:student_standard": STUDENT_STANDARD_CASE,
    "dashboard:student_standard_csv": STUDENT_STANDARD_CASE,
    "dashboard:student_mastery_csv": STUDENT_CASE,
    # The family portal: the guardian's children, then each child's pages.
    "portal:children": Case(
        no_object_roles=["guardian"],
        others=lambda w: {
            role: None for role in ("teacher", "principal", "district_staff", "outsider")
        },
    ),
    "portal:child_progress": CHILD_CASE,
    "portal:child_grades": CHILD_CASE,
    "portal:child_attendance": CHILD_CASE,
    "portal:child_teachers": CHILD_CASE,
    # Who has seen the child's record (tests/portal/test_seen.py: the contact-restricted guardian).
    "portal:child_seen": CHILD_CASE,
    # Families' rights (issue 21; tests/portal/test_rights.py adds the contact-restricted
    # guardian and the guardian without educational rights): the notice, then the child's tab.
    "portal:rights_notice": Case(
        no_object_roles=["guardian"],
        others=lambda w: {role: None for role in NOT_THE_FAMILY},
    ),
    "portal:child_rights": RIGHTS_CHILD_CASE,
    "portal:child_rights_directory": RIGHTS_CHILD_CASE,
    "portal:child_rights_inspection": RIGHTS_CHILD_CASE,
    "portal:child_rights_amendment": RIGHTS_CHILD_CASE,
    "portal:child_rights_consent": _rights_row_case(
        lambda w: {"request_id": rights_data.consent_request_row(w).pk}
    ),
    "portal:child_rights_revoke": _rights_row_case(
        lambda w: {"consent_id": rights_data.consent_row(w).pk}
    ),
    "portal:child_rights_download": _rights_row_case(
        lambda w: {"request_id": rights_data.delivered_inspection_row(w).pk, "fmt": "pdf"}
    ),
    "portal:child_rights_statement": _rights_row_case(
        lambda w: {"request_id": rights_data.refused_amendment_row(w).pk}
    ),
    # Releasing a section's levels to families: its teachers only (asked first on a GET).
    "dashboard:section_release_levels": Case(
        own=lambda w: {"teacher": w.section.pk},
        others=lambda w: {
            "teacher": w.other_section.pk,
            "principal": w.section.pk,
            "district_staff": w.section.pk,
            "guardian": w.section.pk,
            "outsider": w.section.pk,
        },
    ),
    "dashboard:privacy_overview": PRIVACY_OFFICE_CASE,
    "dashboard:privacy_requests": PRIVACY_OFFICE_CASE,
    "dashboard:privacy_inspection": _privacy_office_case(_inspection_request),
    "dashboard:privacy_amendment": _privacy_office_case(_amendment_request),
    "dashboard:privacy_consents": PRIVACY_OFFICE_CASE,
    "dashboard:privacy_consent_new": PRIVACY_OFFICE_CASE,
    "dashboard:privacy_consent": _privacy_office_case(_consent_request),
    "dashboard:privacy_disclosures": PRIVACY_OFFICE_CASE,
    "dashboard:privacy_disclosure_new": PRIVACY_OFFICE_CASE,
    "dashboard:privacy_notices": PRIVACY_OFFICE_CASE,
    "dashboard:privacy_notice_new": PRIVACY_OFFICE_CASE,
    "dashboard:privacy_notice": _privacy_office_case(_notice_draft),
    # A student's access log and disclosures, for the office of the student's district.
    "dashboard:privacy_student_export_json": _privacy_office_case(lambda d, s: s.pk),
    "dashboard:privacy_student_export_csv": _privacy_office_case(lambda d, s: s.pk),
    # One tab of the profile (tests/dashboard/test_pages.py tries every tab both ways).
    "dashboard:student_profile_tab": Case(
        own=lambda w: {
            role: {"pk": pk, "tab": "assessments"} for role, pk in STUDENT_CASE.own(w).items()
        },
        others=lambda w: {
            role: {"pk": pk, "tab": "assessments"} for role, pk in STUDENT_CASE.others(w).items()
        },
    ),
    # Lesson plan calendars (issue 22; tests/dashboard/test_planner_calendar.py adds the
    # substitute and the co-teacher): a section's, for its teachers and its school's principal
    # (read-only); district staff, guardians and other teachers 404.
    "lessons:section_calendar": Case(
        own=lambda w: {"teacher": w.section.pk, "principal": w.section.pk},
        others=lambda w: {
            "teacher": w.other_section.pk,
            "principal": w.other_school_section.pk,
            "district_staff": w.section.pk,
            "guardian": w.section.pk,
            "outsider": w.section.pk,
        },
    ),
    # A teacher's own sections' calendar: whoever plans a section; everyone else 404.
    "lessons:teacher_calendar": Case(
        no_object_roles=["teacher"],
        others=lambda w: {
            role: None for role in ("principal", "district_staff", "guardian", "outsider")
        },
    ),
    # The plan's page and its groups, moves and exit ticket (issue 22;
    # tests/dashboard/test_planner_groups.py tries each action's refusals).
    "lessons:plan_detail": _plan_case(),
    "lessons:plan_moves": _plan_case(),
    "lessons:plan_groups_build": _plan_case(post=lambda w: {"standard": w.standard.pk}),
    "lessons:plan_group_move": _plan_case(
        post=lambda w: {"student": w.student.pk, "to_group": _plan_group(w, "extend")}
    ),
    "lessons:plan_group_add": _plan_case(post=lambda w: {"name": "Table four"}),
    "lessons:plan_group_edit": _plan_case(
        post=lambda w: {"name": "Stretch", "activities": "Puzzles"},
        extra=lambda w: {"group_id": _plan_group(w, "extend")},
    ),
    "lessons:plan_groups_lock": _plan_case(post=lambda w: {"action": "lock"}),
    "lessons:plan_moves_accept": _plan_case(post=lambda w: {"action": "keep"}),
    "lessons:plan_exit_ticket": _plan_case(
        post=lambda w: {"action": "attach", "assessment": w.assessment.pk}
    ),
    # The plan pages (tests/dashboard/test_planner_plans.py adds the substitute, who reads and
    # prints, and forged posts): a new plan is the section's teachers' (the principal, who
    # reads its plans, gets 404).
    "lessons:plan_new": Case(
        own=lambda w: {"teacher": w.section.pk},
        others=lambda w: {
            "teacher": w.other_section.pk,
            "principal": w.section.pk,
            "district_staff": w.section.pk,
            "guardian": w.section.pk,
            "outsider": w.section.pk,
        },
    ),
    "lessons:plan_print": _plan_case(),
    "lessons:plan_edit": _plan_editor_page(),
    "lessons:plan_copy": _plan_editor_page(),
    "lessons:plan_delete": _plan_editor_page(),
    "lessons:plan_taught": _plan_editor_page(),
    "lessons:plan_save_template": _plan_editor_page(),
    "lessons:plan_materials": _plan_editor_page(),
    "lessons:plan_material_remove": _plan_editor_page(world_plan_material),
    # A file of the plan: whoever reads the plan downloads it.
    "lessons:plan_material": Case(
        own=lambda w: {role: world_plan_material(w) for role in ("teacher", "principal")},
        others=lambda w: {
            "teacher": world_plan_material(w, w.other_section),
            "principal": world_plan_material(w, w.other_school_section),
            "district_staff": world_plan_material(w),
            "guardian": world_plan_material(w),
            "outsider": world_plan_material(w),
        },
    ),
    # Templates are personal: the teacher's own; anyone who plans no section gets 404.
    "lessons:plan_templates": Case(
        no_object_roles=["teacher"],
        others=lambda w: {
            role: None for role in ("principal", "district_staff", "guardian", "outsider")
        },
    ),
    "lessons:plan_from_template": Case(
        own=lambda w: {"teacher": world_template(w.teacher)},
        others=lambda w: {
            "teacher": world_template(w.other_teacher),
            **{
                role: world_template(w.teacher)
                for role in ("principal", "district_staff", "guardian", "outsider")
            },
        },
    ),
}


def test_every_page_has_a_permission_case() -> None:
    missing = our_url_names() - set(CASES)
    assert not missing, f"Pages without a permission case in CASES: {sorted(missing)}"


def _url(name: str, pk: object = None) -> str:
    if isinstance(pk, dict):
        return reverse(name, kwargs=pk)
    if isinstance(pk, tuple):
        return reverse(name, kwargs={"pk": pk[0], "assessment_id": pk[1]})
    return reverse(name, kwargs={"pk": pk}) if pk is not None else reverse(name)


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.needs_login))
def test_anonymous_is_sent_to_login(client, world: World, name: str) -> None:
    case = CASES[name]
    targets = list(case.own(world).values()) or [None]
    for pk in targets:
        response = case.request(client, world, _url(name, pk))
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_role_sees_its_own(client, world: World, name: str) -> None:
    case = CASES[name]
    users = users_by_role(world)
    for role in case.no_object_roles:
        client.force_login(users[role])
        assert client.get(_url(name)).status_code == 200, role
    for role, pk in case.own(world).items():
        client.force_login(users[role])
        response = case.request(client, world, _url(name, pk))
        assert response.status_code == case.own_status, f"{role} should see {name} {pk}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_role_gets_404_for_someone_elses(client, world: World, name: str) -> None:
    case = CASES[name]
    users = users_by_role(world)
    for role, pk in case.others(world).items():
        client.force_login(users[role])
        response = case.request(client, world, _url(name, pk))
        assert response.status_code == 404, f"{role} must not see {name} {pk}"


def test_invitation_page_is_404_for_a_bad_token(client, world: World) -> None:
    assert client.get(reverse("invitation_accept", kwargs={"token": "nope"})).status_code == 404
    guardian = factories.GuardianFactory.create(district=world.district)
    GuardianRelationship.objects.create(
        district=world.district,
        guardian=guardian,
        student=world.student,
        relationship=Relationship.FATHER,
        portal_access=True,
    )
    _, token = invitation_create(guardian=guardian, email="dad@example.test")
    assert client.get(reverse("invitation_accept", kwargs={"token": token})).status_code == 200


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.needs_login))
def test_every_page_for_a_signed_in_user_is_never_stored(
    client: Client, world: World, name: str
) -> None:
    """Student data on a shared computer's back button or in a proxy's cache: never."""
    case = CASES[name]
    users = users_by_role(world)
    for role, pk in case.own(world).items():
        client.force_login(users[role])
        response = case.request(client, world, _url(name, pk))
        assert response.status_code == case.own_status
        cache_control = response["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control, (role, name)
