"""The data inventory: how many records of each kind the installation holds, and what each model
holds about a student (`manage.py data_inventory [--json] [--registry]`).

A registry of counts, in registration order: this module registers the district's records;
other apps add theirs from AppConfig.ready():

    from students.inventory import register_count
    register_count("assessments", lambda: Assessment.objects.filter(is_active=True))

A count source is a callable returning a QuerySet (counted with one `.count()` query) or an int.
Records carry an active flag; only active ones count (the access log has none: every row counts).

And a registry of records (`register_records`, below): every model of every project app says
whether it holds personal data about a student, how to select one student's rows and under which
data category they fall, so that `records_of_student` gathers all of a student's data for an
inspection package, and a test fails when a model has no entry.
"""

import datetime
import json
import math
import re
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from privacy.fields import KeyedHashField

if TYPE_CHECKING:
    from students.models import Student

StrOrPromise = str | Promise

CountSource = Callable[[], "QuerySet | int"]

_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_registry: dict[str, CountSource] = {}


def register_count(key: str, source: CountSource, *, replace: bool = False) -> None:
    """Add a count under a snake_case plural key. A key is registered once, unless replace=True
    (which keeps its place in the order)."""
    if not _KEY.match(key):
        raise ValueError(f"Inventory keys are snake_case: {key!r}.")
    if key in _registry and not replace:
        raise ValueError(f"The inventory already counts {key!r}.")
    _registry[key] = source


def registered_keys() -> list[str]:
    return list(_registry)


def inventory_counts() -> dict[str, int]:
    """Every registered count, in registration order; one query each."""
    counts = {}
    for key, source in _registry.items():
        result = source()
        counts[key] = result if isinstance(result, int) else result.count()
    return counts


def _active(label: str) -> CountSource:
    # Resolved when counted, so that importing this module never needs the app registry.
    return lambda: apps.get_model(label)._default_manager.filter(is_active=True)


def _all(label: str) -> CountSource:
    return lambda: apps.get_model(label)._default_manager.all()


for _key, _source in (
    ("students", _active("students.Student")),
    ("guardians", _active("students.Guardian")),
    ("staff", _active("students.Staff")),
    ("schools", _active("students.School")),
    ("sections", _active("students.Section")),
    ("enrollments", _active("students.Enrollment")),
    ("access_log_entries", _all("privacy.AccessLogEntry")),
    ("districts", _active("students.District")),
    ("courses", _active("students.Course")),
    ("academic_sessions", _active("students.AcademicSession")),
    ("guardian_relationships", _active("students.GuardianRelationship")),
    ("program_participations", _active("students.ProgramParticipation")),
    ("contact_details", _active("students.ContactDetail")),
    ("users", _active("accounts.User")),
    ("calendar_dates", _active("students.CalendarDate")),
    ("attendance_events", _active("students.AttendanceEvent")),
    ("discipline_incidents", _active("students.DisciplineIncident")),
    ("discipline_actions", _active("students.DisciplineAction")),
    ("student_discipline_incidents", _active("students.StudentDisciplineIncident")),
    ("grades", _active("students.Grade")),
    ("report_cards", _active("students.ReportCard")),
    ("academic_records", _active("students.AcademicRecord")),
    ("course_transcripts", _active("students.CourseTranscript")),
    ("cohorts", _active("students.Cohort")),
    ("cohort_memberships", _active("students.CohortMembership")),
    ("student_competencies", _active("students.StudentCompetency")),
    ("school_memberships", _active("students.StudentSchoolMembership")),
    ("staff_school_assignments", _active("students.StaffSchoolAssignment")),
    ("section_assignments", _active("students.SectionAssignment")),
):
    register_count(_key, _source)


# --- What each model holds about a student: the registry that makes an inspection package
# complete (34 CFR 99.10). Every concrete model of every project app has an entry, personal or
# not (tests/students/test_data_inventory.py fails, naming the model, when one has none); this
# module registers students' and privacy's, every other app its own from AppConfig.ready():
#
#     from students.inventory import register_records
#     register_records("rights.DisclosureRecord", category="disclosures", personal=True,
#                      student_lookup="student")

Omit = Collection[str] | Callable[["Student"], Collection[str]]


@dataclass(frozen=True)
class RecordsEntry:
    """One model: whether it holds personal data about a student, and how to find one's rows."""

    label: str
    category: str
    personal: bool
    student_lookup: tuple[str, ...]
    student_rows: Callable[["Student"], QuerySet] | None
    note: str
    omit: Omit

    @property
    def model(self) -> type[Model]:
        return apps.get_model(self.label)

    @property
    def lookup_text(self) -> str:
        if self.student_rows is not None:
            return "custom" + (
                f" ({' or '.join(self.student_lookup)})" if self.student_lookup else ""
            )
        return " or ".join(self.student_lookup)

    def rows_of(self, student: "Student") -> QuerySet:
        """The student's rows of this model, by primary key, each once."""
        if not self.personal:
            raise ValueError(f"{self.label} holds no rows of a student.")
        model = self.model
        if self.student_rows is not None:
            rows = self.student_rows(student)
        else:
            condition = Q()
            for lookup in self.student_lookup:
                condition |= Q(**{lookup: student.pk})
            rows = model._default_manager.filter(condition)
            if any(_crosses_many(model, lookup) for lookup in self.student_lookup):
                # A join through a to-many relation could repeat a row.
                rows = model._default_manager.filter(pk__in=rows.values("pk"))
        return rows.order_by("pk")

    def omitted_fields(self, student: "Student") -> frozenset[str]:
        chosen = self.omit(student) if callable(self.omit) else self.omit
        return frozenset(chosen)


_LABEL = re.compile(r"^[a-z_][a-z0-9_]*\.[A-Za-z][A-Za-z0-9]*$")
_records: dict[str, RecordsEntry] = {}


def register_records(
    label: str,
    *,
    category: str,
    personal: bool,
    student_lookup: str | Sequence[str] | None = None,
    student_rows: Callable[["Student"], QuerySet] | None = None,
    note: str = "",
    omit: Omit = (),
    replace: bool = False,
) -> None:
    """Say what a model holds. `label`: "app.Model". `category`: the snake_case heading its rows
    come under in an inspection package. `personal`: it holds data about a student (False: no row
    of it belongs in a student's package; `note` says why). `student_lookup`: the ORM lookup from
    the model to students.Student ("student", "enrollment__student"), or several, any of which
    makes a row the student's; or `student_rows(student) -> QuerySet` when a lookup is not enough.
    `omit`: field names left out of the package (secrets are always left out), or a callable of
    the student giving them. A model has one entry, unless replace=True."""
    if not _LABEL.match(label):
        raise ValueError(f"Registry labels are app_label.ModelName: {label!r}.")
    if not _KEY.match(category):
        raise ValueError(f"Data categories are snake_case: {category!r}.")
    lookups = (student_lookup,) if isinstance(student_lookup, str) else tuple(student_lookup or ())
    if personal and not lookups and student_rows is None:
        raise ValueError(f"{label} holds personal data: say how to find a student's rows.")
    if not personal and (lookups or student_rows is not None):
        raise ValueError(f"{label} holds no personal data: it takes no student lookup.")
    key = label.lower()
    if key in _records and not replace:
        raise ValueError(f"The inventory already has an entry for {label}.")
    _records[key] = RecordsEntry(
        label=label,
        category=category,
        personal=personal,
        student_lookup=lookups,
        student_rows=student_rows,
        note=note,
        omit=omit,
    )
    if personal and category not in _categories:
        _categories[category] = Category(category, category.replace("_", " ").capitalize(), "")


def registered_records() -> list[RecordsEntry]:
    """Every entry, in registration order."""
    return list(_records.values())


@dataclass(frozen=True)
class Category:
    key: str
    title: StrOrPromise
    description: StrOrPromise


_categories: dict[str, Category] = {}


def register_category(key: str, title: StrOrPromise, description: StrOrPromise) -> None:
    """Name a data category and say in a plain sentence what it holds (the package's heading).
    Categories come in the order they were first named or used."""
    if not _KEY.match(key):
        raise ValueError(f"Data categories are snake_case: {key!r}.")
    _categories[key] = Category(key, title, description)


def category_of(key: str) -> Category:
    return _categories.get(key) or Category(key, key.replace("_", " ").capitalize(), "")


def personal_categories() -> list[str]:
    """The categories a student's package has, in order: those of personal entries."""
    used = {entry.category for entry in _records.values() if entry.personal}
    return [key for key in _categories if key in used]


def project_models() -> list[type[Model]]:
    """The concrete models of the project's own apps (those under BASE_DIR, not installed
    packages); many-to-many tables and proxies are their owners'."""
    base = Path(settings.BASE_DIR).resolve()
    found: list[type[Model]] = []
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if not path.is_relative_to(base) or ".venv" in path.relative_to(base).parts:
            continue
        found.extend(
            model
            for model in config.get_models()
            if not model._meta.proxy and not model._meta.abstract
        )
    return found


def models_without_entry(entries: Iterable[RecordsEntry] | None = None) -> list[str]:
    """The labels of project models that have no entry (in `entries`, the registry by
    default)."""
    have = {entry.label.lower() for entry in (registered_records() if entries is None else entries)}
    return sorted(
        model._meta.label for model in project_models() if model._meta.label_lower not in have
    )


def entry_problems(entries: Iterable[RecordsEntry] | None = None) -> list[str]:
    """What is wrong with the entries: a label naming no model, or a lookup that does not end
    at a student."""
    student_model = apps.get_model("students", "Student")
    problems = []
    for entry in registered_records() if entries is None else entries:
        try:
            model = entry.model
        except LookupError:
            problems.append(f"{entry.label}: no such model.")
            continue
        for lookup in entry.student_lookup:
            try:
                target = _lookup_target(model, lookup)
            except FieldDoesNotExist as error:
                problems.append(f"{entry.label}: {lookup!r} does not resolve ({error}).")
                continue
            if target is not student_model:
                problems.append(f"{entry.label}: {lookup!r} ends at {target._meta.label}.")
    return problems


def _walk(model: type[Model], lookup: str) -> Iterator[Any]:
    """The fields a lookup goes through; "pk" at the end is the model's own key."""
    current: Any = model
    for part in lookup.split("__"):
        field = current._meta.pk if part == "pk" else current._meta.get_field(part)
        yield field
        if field.is_relation:
            current = field.related_model


def _lookup_target(model: type[Model], lookup: str) -> type[Model]:
    current: Any = model
    for field in _walk(model, lookup):
        if field.is_relation:
            current = field.related_model
        elif not field.primary_key:
            raise FieldDoesNotExist(f"{field.name} is not a relation or a primary key")
    return current


def _crosses_many(model: type[Model], lookup: str) -> bool:
    return any(field.one_to_many or field.many_to_many for field in _walk(model, lookup))


# --- One student's rows, JSON-ready.

# Never in a package, whatever the entry says: credentials and keyed hashes.
SECRET_FIELDS = frozenset({"password", "token_hash", "code_hash"})
ROWS_PER_QUERY = 2000


def records_of_student(student: "Student") -> dict[str, list[dict[str, Any]]]:
    """Every personal entry's rows of one student, by category (every category, empty ones too),
    in a stable order: categories as registered, models as registered, rows by primary key.
    Each row: {"record_type": what it is, "id": its key, field: value...}, JSON-ready (dates ISO,
    decimals as strings, choices as their label, a foreign key as {"id", "label"}, encrypted
    fields decrypted, secrets left out, many-to-many links left out)."""
    return {category: list(rows) for category, rows in record_streams_of_student(student).items()}


def record_streams_of_student(student: "Student") -> dict[str, Iterator[dict[str, Any]]]:
    """As records_of_student, each category a generator read in chunks, for a package of any
    size: consume them one after another (the JSON writer and the PDF do)."""
    labels = _LabelCache()
    entries_by_category: dict[str, list[RecordsEntry]] = {}
    for entry in registered_records():
        if entry.personal:
            entries_by_category.setdefault(entry.category, []).append(entry)
    return {
        category: _category_rows(student, entries_by_category[category], labels)
        for category in personal_categories()
    }


def write_records_json(student: "Student", out: IO[str]) -> None:
    """records_of_student as one JSON object, written row by row (bounded memory)."""
    out.write("{")
    for number, (category, rows) in enumerate(record_streams_of_student(student).items()):
        out.write(("," if number else "") + json.dumps(category) + ":[")
        for index, row in enumerate(rows):
            out.write(("," if index else "") + json.dumps(row, ensure_ascii=False))
        out.write("]")
    out.write("}")


def _category_rows(
    student: "Student", entries: list[RecordsEntry], labels: "_LabelCache"
) -> Iterator[dict[str, Any]]:
    for entry in entries:
        rows = entry.rows_of(student)
        plan = _row_plan(entry.model, entry.omitted_fields(student))
        related = [name for name, kind, _ in plan if kind == "fk"]
        nested = [
            f"{name}__{sub.name}"
            for name, kind, field in plan
            if kind == "fk"
            for sub in field.related_model._meta.concrete_fields
            if sub.many_to_one and not sub.null
        ]
        rows = rows.select_related(*related, *nested)
        record = str(entry.model._meta.verbose_name)
        record = record[:1].upper() + record[1:]
        for row in rows.iterator(chunk_size=ROWS_PER_QUERY):
            yield _row_dict(row, record, plan, labels)


# Fields every district record has, shown after the record's own.
BOOKKEEPING_FIELDS = (
    "district",
    "source_system",
    "source_id",
    "is_active",
    "created_at",
    "updated_at",
)


def _row_plan(model: type[Model], omitted: frozenset[str]) -> list[tuple[str, str, Any]]:
    """(name, kind, field or choice labels) of each field a row shows: the model's own fields,
    then the bookkeeping every record has."""
    plan: list[tuple[str, str, Any]] = []
    fields = sorted(model._meta.concrete_fields, key=lambda field: field.name in BOOKKEEPING_FIELDS)
    for field in fields:
        if (
            field.primary_key
            and not field.is_relation
            or field.name in SECRET_FIELDS
            or field.name in omitted
            or isinstance(field, KeyedHashField)
        ):
            continue
        if field.is_relation:
            plan.append((field.name, "fk", field))
        elif field.choices:
            plan.append((field.attname, "choice", dict(field.flatchoices)))
        else:
            plan.append((field.attname, "value", None))
    return plan


def _row_dict(
    row: Model, record: str, plan: list[tuple[str, str, Any]], labels: "_LabelCache"
) -> dict[str, Any]:
    data: dict[str, Any] = {"record_type": record, "id": _json_value(row.pk)}
    for name, kind, extra in plan:
        if kind == "fk":
            target = getattr(row, name)
            data[name] = None if target is None else labels.of(target)
        elif kind == "choice":
            value = getattr(row, name)
            data[name] = str(extra.get(value, value)) if value is not None else None
        else:
            data[name] = _json_value(getattr(row, name))
    return data


class _LabelCache:
    """A related record as {"id", "label"}; labels remembered, a bounded number of them."""

    LIMIT = 20_000

    def __init__(self) -> None:
        self._labels: dict[tuple[str, Any], str] = {}

    def of(self, target: Model) -> dict[str, Any]:
        key = (target._meta.label_lower, target.pk)
        label = self._labels.get(key)
        if label is None:
            if len(self._labels) >= self.LIMIT:
                self._labels.clear()
            label = self._labels[key] = str(target)
        return {"id": _json_value(target.pk), "label": label}


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime.datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dict | list):
        return value  # a JSONField: JSON already
    return str(value)


# --- The categories of a student's data, in the order a package shows them.

for _category, _title, _description in (
    (
        "student",
        _("The student"),
        _(
            "The student's own record: name, birth date, identifiers, sex, home language and "
            "the race and ethnicity categories the district reports."
        ),
    ),
    (
        "enrollment",
        _("Schools and classes"),
        _(
            "The schools the student has been enrolled in, in which grade, and the classes "
            "(sections) they were or are in."
        ),
    ),
    (
        "guardians",
        _("Parents and guardians"),
        _(
            "The parents and guardians on the student's record, how each is related to the "
            "student, and what each may do: educational rights, portal access, emergency contact."
        ),
    ),
    (
        "contacts",
        _("Addresses, phone numbers and emails"),
        _(
            "The student's contact details, and their parents' and guardians', as the school "
            "keeps them."
        ),
    ),
    (
        "programs",
        _("Programs and groups"),
        _(
            "Programs the student takes part in, such as an IEP, a 504 plan, English learner "
            "support or free or reduced-price lunch, and groups the student was placed in."
        ),
    ),
    (
        "attendance",
        _("Attendance"),
        _("Each day the school recorded the student absent, late or leaving early, and why."),
    ),
    (
        "grades",
        _("Grades, report cards and transcripts"),
        _(
            "Grades in each class and grading period, report cards, course transcripts, credits, "
            "grade point averages and the competency levels on report cards."
        ),
    ),
    (
        "assessments",
        _("Tests and assignments"),
        _(
            "The student's results on tests, quizzes, tasks and gradebook entries: each score, "
            "and any comment a teacher wrote."
        ),
    ),
    (
        "mastery",
        _("Mastery of learning standards"),
        _(
            "How well the student is estimated to know each learning standard, how the estimate "
            "changed over time, the scores counted for it, and any level a teacher set by hand."
        ),
    ),
    (
        "lessons",
        _("Lesson groups"),
        _(
            "The groups a teacher placed the student in for a lesson, with the student's level "
            "on the lesson's standard when placed."
        ),
    ),
    (
        "discipline",
        _("Discipline"),
        _("Incidents the student was part of, and what the school did about them."),
    ),
    (
        "alerts",
        _("Alerts sent to the family"),
        _("The absences that the alert emails to the student's family named."),
    ),
    (
        "access_grants",
        _("Who was given access"),
        _(
            "Accounts given access to the student's record, as a guardian or by hand: by whom, "
            "from when to when, and why."
        ),
    ),
    (
        "access_log",
        _("Who has seen the record"),
        _(
            "Each time someone saw the student's data in Trellis: when, who, in which role, "
            "what they saw and why."
        ),
    ),
    (
        "disclosures",
        _("Disclosures"),
        _(
            "Each time the student's records were given to someone outside the school's "
            "officials: to whom, what, when, and on what basis."
        ),
    ),
):
    register_category(_category, _title, _description)


def _access_log_omit(student: "Student") -> set[str]:
    # What the family's "who has seen" page shows, no more: not the account, its login email or
    # the page's address; and roles only where the district chose so (District.access_log_names).
    # The privacy officer's export of the access log has every column.
    omitted = {"student_key", "actor_user", "actor_label", "path"}
    if student.district.access_log_names == "roles":
        omitted.add("actor_name")
    return omitted


_NOT_A_STUDENT = "About the district's organisation, not about any student."
_STAFF = "About staff members, not students (a student's classes name their sections)."

for _label, _options in (
    ("students.District", {"category": "organisation", "note": _NOT_A_STUDENT}),
    ("students.School", {"category": "organisation", "note": _NOT_A_STUDENT}),
    ("students.AcademicSession", {"category": "organisation", "note": _NOT_A_STUDENT}),
    ("students.Course", {"category": "organisation", "note": _NOT_A_STUDENT}),
    ("students.Section", {"category": "organisation", "note": _NOT_A_STUDENT}),
    ("students.CalendarDate", {"category": "organisation", "note": _NOT_A_STUDENT}),
    (
        "students.Cohort",
        {"category": "organisation", "note": "A group; its members are in CohortMembership."},
    ),
    ("students.Staff", {"category": "staff", "note": _STAFF}),
    ("students.StaffSchoolAssignment", {"category": "staff", "note": _STAFF}),
    ("students.SectionAssignment", {"category": "staff", "note": _STAFF}),
    (
        "students.SectionUserObjectPermission",
        {"category": "access_grants", "note": "A user's access to a section, not to a student."},
    ),
    ("students.Student", {"category": "student", "student_lookup": "pk"}),
    ("students.StudentSchoolMembership", {"category": "enrollment", "student_lookup": "student"}),
    ("students.Enrollment", {"category": "enrollment", "student_lookup": "student"}),
    # The guardians as the child's record shows them: their names and contact details.
    ("students.Guardian", {"category": "guardians", "student_lookup": "relationships__student"}),
    ("students.GuardianRelationship", {"category": "guardians", "student_lookup": "student"}),
    (
        "students.ContactDetail",
        {"category": "contacts", "student_lookup": ("student", "guardian__relationships__student")},
    ),
    ("students.ProgramParticipation", {"category": "programs", "student_lookup": "student"}),
    ("students.CohortMembership", {"category": "programs", "student_lookup": "student"}),
    ("students.AttendanceEvent", {"category": "attendance", "student_lookup": "student"}),
    ("students.Grade", {"category": "grades", "student_lookup": "student"}),
    ("students.ReportCard", {"category": "grades", "student_lookup": "student"}),
    ("students.AcademicRecord", {"category": "grades", "student_lookup": "student"}),
    ("students.CourseTranscript", {"category": "grades", "student_lookup": "student"}),
    ("students.StudentCompetency", {"category": "grades", "student_lookup": "student"}),
    (
        "students.DisciplineIncident",
        {"category": "discipline", "student_lookup": "student_links__student"},
    ),
    ("students.StudentDisciplineIncident", {"category": "discipline", "student_lookup": "student"}),
    ("students.DisciplineAction", {"category": "discipline", "student_lookup": "students"}),
    (
        "students.StudentUserObjectPermission",
        {"category": "access_grants", "student_lookup": "content_object"},
    ),
    (
        "privacy.AccessLogEntry",
        {
            "category": "access_log",
            "student_lookup": "student",
            "omit": _access_log_omit,
            "note": "As the family's page shows it; the privacy officer's export has every column.",
        },
    ),
):
    register_records(_label, personal="student_lookup" in _options, **_options)
