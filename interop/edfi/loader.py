"""Write neutral Ed-Fi records into Trellis: resolve natural keys, upsert by source id.

Records are buffered per kind and written in batches (set-based: one read of what exists, one
bulk create, one bulk update per batch). References resolve against what this run has written
and, failing that, against the database. Every problem goes to the report's error collector;
the service rolls the whole run back when there is any.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.db import connection, models
from django.utils import timezone

from assessments.models import (
    Assessment,
    AssessmentItem,
    AssessmentKind,
    AssessmentPurpose,
    ItemKind,
    PerformanceLevel,
    ScoreSource,
    ScoreStatus,
    Standard,
    StandardKind,
    StudentAssessment,
)
from assessments.services import (
    ScoreInput,
    scores_record_bulk,
)
from interop.edfi.descriptors import (
    ATTENDANCE,
    RELATIONS,
    SCHOOL_LEVELS,
    STAFF_KINDS,
    code_value,
)
from interop.edfi.descriptors import program_type as program_type_of
from interop.edfi.records import Contact, Rec, Ref, fingerprint_of
from interop.guardians import guardian_language_default
from interop.report import ImportReport
from interop.upsert import sourced_upsert
from privacy.fields import EncryptedTextField, KeyedHashField
from students import models as sm
from students.bulk_keys import ForeignKeysSetAside

SOURCE_SYSTEM = "edfi"
BATCH = 2000
# Kinds no record references are written without objects (interop.upsert): larger batches
# spend less on each batch's staging table and statements, memory still bounded.
SHARED_BATCH = 10_000
# Scores are written set-based (scores_record_bulk) once this many are waiting, and at the end
# of every pass of a file.
SCORE_BATCH = 20_000
# The longest warning or element name a report keeps (they quote the files).
KEY_LENGTH = 200

# Where each kind lives: model, source-id prefix (for kinds sharing a model), report entity.
KINDS: dict[str, tuple[type[models.Model], str, str]] = {
    "school": (sm.School, "", "schools"),
    "course": (sm.Course, "", "courses"),
    "session": (sm.AcademicSession, "", "academic_sessions"),
    "grading_period": (sm.AcademicSession, "gp|", "grading_periods"),
    "calendar_date": (sm.CalendarDate, "", "calendar_dates"),
    "section": (sm.Section, "", "sections"),
    "staff": (sm.Staff, "", "staff"),
    "staff_assignment": (sm.StaffSchoolAssignment, "", "staff_school_assignments"),
    "section_assignment": (sm.SectionAssignment, "", "section_assignments"),
    "student": (sm.Student, "", "students"),
    "parent": (sm.Guardian, "", "guardians"),
    "student_parent": (sm.GuardianRelationship, "", "guardian_relationships"),
    "student_school": (sm.StudentSchoolMembership, "", "school_memberships"),
    "student_section": (sm.Enrollment, "", "enrollments"),
    "student_program": (sm.ProgramParticipation, "", "program_participations"),
    "cohort": (sm.Cohort, "", "cohorts"),
    "student_cohort": (sm.CohortMembership, "", "cohort_memberships"),
    "standard": (Standard, "", "learning_standards"),
    "objective": (Standard, "lo|", "learning_objectives"),
    "assessment": (Assessment, "", "assessments"),
    "objective_assessment": (AssessmentItem, "oa|", "objective_assessments"),
    "assessment_item": (AssessmentItem, "ai|", "assessment_items"),
    "student_assessment": (StudentAssessment, "", "student_assessments"),
    "gradebook_entry": (Assessment, "gb|", "gradebook_entries"),
    "student_gradebook_entry": (StudentAssessment, "sgb|", "student_gradebook_entries"),
    "grade": (sm.Grade, "", "grades"),
    "report_card": (sm.ReportCard, "", "report_cards"),
    "academic_record": (sm.AcademicRecord, "", "academic_records"),
    "course_transcript": (sm.CourseTranscript, "", "course_transcripts"),
    "student_competency": (sm.StudentCompetency, "", "student_competencies"),
    "attendance_event": (sm.AttendanceEvent, "", "attendance_events"),
    "discipline_incident": (sm.DisciplineIncident, "", "discipline_incidents"),
    "student_discipline_incident": (
        sm.StudentDisciplineIncident,
        "",
        "student_discipline_incidents",
    ),
    "discipline_action": (sm.DisciplineAction, "", "discipline_actions"),
}
# Kinds no record references: their ids are not kept (the largest volumes are among them).
UNREFERENCED_KINDS = {
    "attendance_event",
    "calendar_date",
    "student_school",
    "student_section",
    "student_program",
    "student_parent",
    "student_cohort",
    "section_assignment",
    "staff_assignment",
    "student_discipline_incident",
    "course_transcript",
    "student_competency",
    "_contact_details",
}
# People and sections must exist: a reference to one found nowhere is an error. Reference data
# carried by its full natural key (session, course, grading period, standard) is created instead.
PERSON_OR_SECTION = {"student", "staff", "parent", "section"}


def program_code(program_type: str) -> str:
    """The Trellis program of a program type (its code value; a namespace is ignored)."""
    return program_type_of(code_value(program_type))


def _number(value: str) -> Decimal | None:
    try:
        return Decimal(value) if value else None
    except InvalidOperation:
        return None


class Loader:
    def __init__(
        self,
        *,
        report: ImportReport,
        district: sm.District,
        lea_ids: set[str] | None = None,
        file: str = "",
    ) -> None:
        self.report = report
        self.district = district
        self.file = file
        self.buffers: dict[str, list[Rec]] = defaultdict(list)
        self.ids: dict[str, dict[str, int]] = defaultdict(dict)
        # What this run already read, by kind and key: repeats are merged, first one wins.
        self.seen: dict[str, dict[int, int]] = defaultdict(dict)
        self.supplements: dict[str, set[str]] = defaultdict(set)
        self.merged: Counter[str] = Counter()
        self.differing: Counter[str] = Counter()
        # Both keyed by text from the files: at most the error limit's number of kinds, each cut
        # to a readable length, and the rest counted together (count_bounded).
        self.warnings: Counter[str] = Counter()
        self.not_kept: Counter[str] = Counter()
        self.other_warnings = 0
        self.other_not_kept = 0
        # The district's own agency ids (the files' LocalEducationAgency, or its source id).
        self.lea_ids = (lea_ids or set()) | ({district.source_id} if district.source_id else set())
        self.org_category: dict[str, str] = dict.fromkeys(self.lea_ids, "lea")
        self.offerings: dict[str, tuple[int | None, int | None, str]] = {}
        self.programs: dict[str, dict[str, str]] = {}
        self.objective_aliases: dict[str, str] = {}
        self.course_subject: dict[int, str] = {}
        self.student_assessment_keys: dict[str, tuple[int, int, date]] = {}
        self.grade_keys_by_prefix: dict[str, list[int]] = defaultdict(list)
        # (link, record, pk, reference): alignments and hierarchy waiting for their target.
        self.pending_links: list[tuple[str, Rec, int, Ref]] = []
        # Mastery estimates the imported scores touched: recomputed once each, after commit.
        self.estimate_ids: set[int] = set()
        # Scores waiting for scores_record_bulk, by (student, assessment, item, date): a repeat
        # replaces the one waiting (a statement cannot write one score twice).
        self.scores: dict[tuple[int, int, int | None, date], ScoreInput] = {}
        self.scores_repeated: Counter[str] = Counter()
        self.rows = 0
        # Rows this run wrote by table, and the tables whose foreign keys it set aside: see
        # keys_set_aside_for.
        self.table_rows: Counter[str] = Counter()
        self.keys_set_aside = ForeignKeysSetAside()
        # The same for the pass being read, and the share of its file read so far (file_read).
        self.pass_table_rows: Counter[str] = Counter()
        self.pass_share_read = 0.0
        # Guardians given their child's home language (their source named no language).
        self.languages_defaulted = 0
        self._lengths: dict[type[models.Model], dict[str, int]] = {}
        # Models with an encrypted field and no keyed hash of it: SQL would compare ciphertexts
        # (new on every write) and rewrite every row, so their upserts compare in Python.
        self._compared_as_ciphertext = {
            model
            for model, _prefix, _entity in KINDS.values()
            if {f.attname for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)}
            - {f.source_field for f in model._meta.concrete_fields if isinstance(f, KeyedHashField)}
        }

    # --- reporting -------------------------------------------------------------------------

    def error(self, rec: Rec, message: str, path: str = "") -> None:
        column = f"{rec.element}/{path}" if path else rec.element
        self.report.errors.add(file=self.file, line=rec.line, column=column, message=message)

    def warn(self, message: str) -> None:
        if not self.count_bounded(self.warnings, message):
            self.other_warnings += 1

    def not_read(self, what: str) -> None:
        """Count an element the files hold and this import does not read (by its name, which
        the file chose)."""
        if not self.count_bounded(self.not_kept, what):
            self.other_not_kept += 1

    def count_bounded(self, counter: Counter[str], key: str) -> bool:
        """Count `key` unless `counter` already holds as many kinds as the report keeps errors
        (TRELLIS_IMPORT_ERROR_LIMIT); False when it was not counted."""
        if len(key) > KEY_LENGTH:
            key = key[: KEY_LENGTH - 3] + "..."
        if key in counter or len(counter) < self.report.errors.limit:
            counter[key] += 1
            return True
        return False

    # --- intake ----------------------------------------------------------------------------

    def add(self, rec: Rec) -> None:
        """Buffer a record; a repeat of one already read this run is merged (first one wins)."""
        # Made by the reading process when there is one (records.encode_event).
        fingerprint = rec.fingerprint if rec.fingerprint is not None else fingerprint_of(rec)
        # Keys are kept as their hashes: a run of a million records keeps ints, not strings.
        seen = self.seen[rec.kind]
        key_hash = hash(rec.key)
        supplements = self.supplements[rec.kind]
        if rec.key in supplements and not rec.extra.get("supplement"):
            # A full record replaces a supplement read before it (a TeacherSchoolAssociation
            # before the StaffEducationOrgAssignmentAssociation of the same staff and school).
            supplements.discard(rec.key)
            self.buffers[rec.kind] = [r for r in self.buffers[rec.kind] if r.key != rec.key]
            self.merged[KINDS[rec.kind][2]] += 1
            seen.pop(key_hash)
        if key_hash in seen:
            entity = KINDS[rec.kind][2] if rec.kind in KINDS else rec.kind
            if seen[key_hash] == fingerprint:
                self.merged[entity] += 1
            else:
                self.differing[entity] += 1
            return
        seen[key_hash] = fingerprint
        if rec.extra.get("supplement"):
            supplements.add(rec.key)
        self.buffers[rec.kind].append(rec)
        self.rows += 1

    def flush(self, kinds: Iterable[str], *, force: bool = False) -> None:
        for kind in kinds:
            buffer = self.buffers.get(kind)
            if not buffer or (
                not force and len(buffer) < (SHARED_BATCH if kind in UNREFERENCED_KINDS else BATCH)
            ):
                continue
            if kind == "student_item_score":
                # Ed-Fi 5.2 nests these in their result, read in the same pass: results first.
                self.flush(["student_assessment"], force=True)
            self.buffers[kind] = []
            getattr(self, f"_load_{kind}")(buffer)
        if force:
            self.flush_scores()

    # --- resolution ------------------------------------------------------------------------

    def _prefixed(self, kind: str, key: str) -> str:
        return KINDS[kind][1] + key

    def _lookup(self, kind: str, keys: set[str]) -> None:
        """Fill ids[kind] from the database for keys this run has not written."""
        known = self.ids[kind]
        missing = [k for k in keys if k not in known]
        if not missing:
            return
        model, prefix, _entity = KINDS[kind]
        for start in range(0, len(missing), 5000):
            chunk = [prefix + k for k in missing[start : start + 5000]]
            for source_id, pk in model._default_manager.filter(
                district=self.district, source_system=SOURCE_SYSTEM, source_id__in=chunk
            ).values_list("source_id", "pk"):
                known[source_id[len(prefix) :]] = pk

    def _org_lookup(self, keys: set[str]) -> None:
        missing = [k for k in keys if k not in self.org_category]
        if not missing:
            return
        self._lookup("school", set(missing))
        for key in missing:
            if key in self.ids["school"]:
                self.org_category[key] = "school"

    def resolve_batch(self, recs: list[Rec]) -> None:
        """Look up every reference of a batch at once (one query per kind)."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for rec in recs:
            refs = [r for r in rec.refs.values() if r is not None]
            refs += [r for many in rec.many.values() for r in many]
            for ref in refs:
                wanted[ref.kind].add(ref.key)
        for kind, keys in wanted.items():
            if kind == "edorg":
                self._org_lookup(keys)
            elif kind == "objective_alias":
                self._alias_lookup(keys)
            elif kind == "student_assessment":
                self._student_assessment_lookup(keys)
            elif kind in KINDS:
                self._lookup(kind, keys)

    def _alias_lookup(self, aliases: set[str]) -> None:
        missing = [a for a in aliases if a not in self.objective_aliases]
        for alias in missing:
            text, subject, _grade = (alias.split("|") + ["", ""])[:3]
            found = (
                Standard.objects.filter(
                    district=self.district,
                    source_system=SOURCE_SYSTEM,
                    kind=StandardKind.OBJECTIVE,
                    description=text,
                    subject=subject,
                )
                .values_list("source_id", "pk")
                .first()
            )
            if found:
                key = found[0][len(KINDS["objective"][1]) :]
                self.objective_aliases[alias] = key
                self.ids["objective"][key] = found[1]

    def _student_assessment_lookup(self, keys: set[str]) -> None:
        missing = [k for k in keys if k not in self.student_assessment_keys]
        if not missing:
            return
        for row in StudentAssessment.objects.filter(
            district=self.district, source_system=SOURCE_SYSTEM, source_id__in=missing
        ).values_list("source_id", "student_id", "assessment_id", "administered_on"):
            self.student_assessment_keys[row[0]] = (row[1], row[2], row[3])

    def ref_id(self, rec: Rec, name: str, *, required: bool = True) -> int | None:
        """The pk a reference names, creating carried reference data; None (and an error when
        required) if it names nothing."""
        ref = rec.refs.get(name)
        if ref is None:
            if required:
                self.error(rec, f"{rec.element} has no {name} reference")
            return None
        return self.resolve(rec, ref, required=required)

    def resolve(self, rec: Rec, ref: Ref, *, required: bool = True) -> int | None:
        if ref.kind == "edorg":
            return self._school_id(rec, ref, required=required)
        if ref.kind == "objective_alias":
            key = self.objective_aliases.get(ref.key)
            pk = self.ids["objective"].get(key) if key else None
            if pk is None:
                self.error(
                    rec, f"no learning objective {ref.key!r} in the files or in Trellis", ref.path
                )
            return pk
        pk = self.ids[ref.kind].get(ref.key)
        if pk is not None:
            return pk
        if ref.create is not None and ref.kind not in PERSON_OR_SECTION:
            return self._create_from_key(rec, ref)
        what = ref.kind.replace("_", " ")
        self.error(rec, f"unknown {what} {ref.key!r}: not in the files nor in Trellis", ref.path)
        return None

    def _school_id(self, rec: Rec, ref: Ref, *, required: bool) -> int | None:
        category = self.org_category.get(ref.key)
        if category == "school":
            return self.ids["school"][ref.key]
        if category is None and required:
            self.error(
                rec,
                f"unknown education organization {ref.key!r}: not in the files nor in Trellis",
                ref.path,
            )
        elif category is None:
            # Daybreak's calendar names an organization 'IL' that no file defines: the record is
            # kept for the whole district rather than refused.
            self.warn(
                f"{rec.element} names education organization {ref.key!r}, found nowhere: kept "
                "for the whole district"
            )
        elif required:
            self.error(rec, f"{ref.key!r} is not a school", ref.path)
        return None

    def _create_from_key(self, rec: Rec, ref: Ref) -> int | None:
        """Reference data named by its full natural key but found nowhere: created from the key,
        with a warning in the report."""
        data = ref.create or {}
        school_id = None
        if data.get("school"):
            self._org_lookup({data["school"]})
            if self.org_category.get(data["school"]) == "school":
                school_id = self.ids["school"][data["school"]]
        model, prefix, entity = KINDS[ref.kind]
        common = {
            "district": self.district,
            "source_system": SOURCE_SYSTEM,
            "source_id": prefix + ref.key,
        }
        obj: sm.SourcedRecord
        if ref.kind == "standard":
            obj = Standard.objects.create(
                **common,
                code=data["code"][:120],
                framework="Referenced",
                kind=StandardKind.STANDARD,
            )
        elif ref.kind == "course":
            obj = sm.Course.objects.create(**common, school_id=school_id, title=data["title"][:200])
        elif ref.kind in {"session", "grading_period"}:
            begin = data.get("begin") or rec.values.get("begin_date") or date(1900, 1, 1)
            obj = sm.AcademicSession.objects.create(
                **common,
                school_id=school_id,
                title=data["title"][:200],
                kind=sm.SessionKind.GRADING_PERIOD
                if ref.kind == "grading_period"
                else sm.SessionKind.TERM,
                school_year=rec.values.get("school_year") or begin.year,
                start_date=begin,
                end_date=begin,
            )
        else:  # pragma: no cover - only the kinds above carry create data
            return None
        self.ids[ref.kind][ref.key] = obj.pk
        self.report.count(entity, created=1)
        self.warn(
            f"{ref.kind.replace('_', ' ')} {ref.key!r} is referenced but not in the files nor in "
            f"Trellis: created from its key ({self.file} line {rec.line})"
        )
        return obj.pk

    # --- set-based upsert ------------------------------------------------------------------

    def _max_lengths(self, model: type[models.Model]) -> dict[str, int]:
        if model not in self._lengths:
            self._lengths[model] = {
                f.attname: f.max_length
                for f in model._meta.concrete_fields
                if isinstance(f, models.CharField) and f.max_length
            }
        return self._lengths[model]

    def upsert(
        self,
        kind: str,
        rows: list[tuple[Rec, dict[str, Any]]],
        *,
        create_only: tuple[str, ...] = (),
        entity: str | None = None,
        scoped: bool = True,
    ) -> list[tuple[Rec, int]]:
        """Create or update one row per record (keyed by district, source system, source id);
        rows whose values already match are left alone. Returns (record, primary key): those
        created first, then those that existed."""
        model, prefix, default_entity = KINDS[kind]
        entity = entity or default_entity
        lengths = self._max_lengths(model)
        valid: dict[str, tuple[Rec, dict[str, Any]]] = {}
        for rec, values in rows:
            too_long = [
                name
                for name, value in values.items()
                if isinstance(value, str) and name in lengths and len(value) > lengths[name]
            ]
            if too_long:
                for name in too_long:
                    self.error(rec, f"{name} is longer than {lengths[name]} characters", name)
                continue
            valid[prefix + rec.key] = (rec, values)
        if not valid:
            return []
        if kind in UNREFERENCED_KINDS and not create_only:
            self._shared_upsert(model, entity, valid)
            return []
        if (
            connection.vendor == "postgresql"
            and scoped
            and not create_only
            and model not in self._compared_as_ciphertext
        ):
            return self._sql_upsert(kind, model, entity, valid)
        scope = {"district": self.district} if scoped else {}
        # Every kind's model is a sourced record (source id, active flag).
        sourced = cast("type[sm.SourcedRecord]", model)
        existing = {
            obj.source_id: obj
            for obj in sourced._default_manager.filter(
                **scope, source_system=SOURCE_SYSTEM, source_id__in=list(valid)
            )
        }
        created: list[tuple[Rec, models.Model]] = []
        saved: list[tuple[Rec, models.Model]] = []
        to_update: list[models.Model] = []
        changed_fields: set[str] = set()
        unchanged = 0
        for source_id, (rec, values) in valid.items():
            obj = existing.get(source_id)
            if obj is None:
                obj = sourced(**scope, source_system=SOURCE_SYSTEM, source_id=source_id, **values)
                created.append((rec, obj))
                continue
            diff = [
                name
                for name, value in values.items()
                if name not in create_only and getattr(obj, name) != value
            ]
            if not obj.is_active:
                diff.append("is_active")
                obj.is_active = True
            for name in diff:
                if name != "is_active":
                    setattr(obj, name, values[name])
            if diff:
                to_update.append(obj)
                changed_fields.update(diff)
            else:
                unchanged += 1
            saved.append((rec, obj))
        model._default_manager.bulk_create([obj for _, obj in created], batch_size=BATCH)
        if to_update:
            model._default_manager.bulk_update(
                to_update, sorted(changed_fields | {"updated_at"}), batch_size=BATCH
            )
        self.report.count(entity, created=len(created), updated=len(to_update), unchanged=unchanged)
        result = [(rec, obj.pk) for rec, obj in created + saved]
        if kind not in UNREFERENCED_KINDS:
            for rec, pk in result:
                self.ids[kind][rec.key] = pk
        return result

    def _sql_upsert(
        self,
        kind: str,
        model: type[models.Model],
        entity: str,
        valid: dict[str, tuple[Rec, dict[str, Any]]],
    ) -> list[tuple[Rec, int]]:
        """PostgreSQL: upsert through interop.upsert (COPY into staging, one INSERT ... ON
        CONFLICT) and read back the ids later batches reference, with one query before (which
        of them exist) and one after (the ids of those created)."""
        table = connection.ops.quote_name(model._meta.db_table)
        select = (
            f"SELECT source_id, id FROM {table} "  # noqa: S608 (a model's table name)
            "WHERE district_id = %s AND source_system = %s AND source_id = ANY(%s)"
        )
        with connection.cursor() as cursor:
            cursor.execute(select, [self.district.pk, SOURCE_SYSTEM, list(valid)])
            existing = dict(cursor.fetchall())
            self._shared_upsert(model, entity, valid)
            new = [source_id for source_id in valid if source_id not in existing]
            created: dict[str, int] = {}
            if new:
                cursor.execute(select, [self.district.pk, SOURCE_SYSTEM, new])
                created = dict(cursor.fetchall())
        # In the order of the records, as the ORM route returns them (links keep that order).
        result = [(valid[sid][0], created[sid]) for sid in new if sid in created]
        result += [(rec, existing[sid]) for sid, (rec, _values) in valid.items() if sid in existing]
        ids = self.ids[kind]
        for rec, pk in result:
            ids[rec.key] = pk
        return result

    def _shared_upsert(
        self,
        model: type[models.Model],
        entity: str,
        valid: dict[str, tuple[Rec, dict[str, Any]]],
    ) -> None:
        """Rows go through interop.upsert (COPY and one INSERT ... ON CONFLICT on PostgreSQL),
        one call per set of fields given (a guardian whose language no file names keeps the
        stored one): no objects come back."""
        groups: dict[tuple[str, ...], list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        for source_id, (_rec, values) in valid.items():
            groups[tuple(values)].append((source_id, values))
        self.keys_set_aside_for(model, len(valid))
        for names, members in groups.items():
            result = sourced_upsert(
                model,
                fields=("source_id", "is_active", *names),
                rows=(
                    (source_id, True, *(values[name] for name in names))
                    for source_id, values in members
                ),
                district_id=self.district.pk,
                source_system=SOURCE_SYSTEM,
            )
            self.report.count(
                entity, created=result.created, updated=result.updated, unchanged=result.unchanged
            )

    def pass_started(self) -> None:
        self.pass_table_rows.clear()
        self.pass_share_read = 0.0

    def file_read(self, share: float) -> None:
        """How much of the file the current pass has read (0 to 1), for keys_set_aside_for."""
        self.pass_share_read = share

    def keys_set_aside_for(self, model: type[models.Model], rows: int) -> None:
        """Before `rows` more rows of `model`'s table: once what the run writes of them pays for
        it (ForeignKeysSetAside.set_aside_if_it_pays), the table's foreign keys are set aside until
        keys_restore. Its rows come in many batches (710,000 attendance events queued 2.8
        million checks for COMMIT), so the keys stay aside for the rest of the run. What the run
        writes: what it wrote, and the rest of the file at the rate its first part gave, so that
        a large file sets the keys aside from its first batch (its first 100,000 rows checked
        one by one cost the 10,000-student set 2.8 s)."""
        table = model._meta.db_table
        self.table_rows[table] += rows
        self.pass_table_rows[table] += rows
        expected = self.table_rows[table]
        share = self.pass_share_read
        if 0 < share < 1:
            expected += int(self.pass_table_rows[table] * (1 - share) / share)
        self.keys_set_aside.set_aside_if_it_pays(table, expected)

    def keys_restore(self) -> None:
        """Add back the foreign keys set aside, each checked once (before the run commits)."""
        self.keys_set_aside.restore()

    def _m2m_add(
        self, through: type[models.Model], left: str, right: str, pairs: set[tuple[int, int]]
    ) -> None:
        """Add missing rows of a many-to-many table (imports add alignments, never drop them)."""
        if not pairs:
            return
        lefts = {a for a, _ in pairs}
        existing = set(
            through._default_manager.filter(**{f"{left}__in": lefts}).values_list(left, right)
        )
        through._default_manager.bulk_create(
            [through(**{left: a, right: b}) for a, b in pairs - existing], batch_size=BATCH
        )

    # --- contacts and derived programs -----------------------------------------------------

    def _contacts(self, owner: str, saved: list[tuple[Rec, int]]) -> None:
        rows: list[tuple[Rec, dict[str, Any]]] = []
        for rec, pk in saved:
            contacts: list[Contact] = rec.extra.get("contacts", [])
            per_kind: Counter[str] = Counter()
            for contact in contacts:
                per_kind[contact.kind] += 1
                key = f"{owner}|{rec.key}|{contact.kind}|{per_kind[contact.kind]}"
                sub = Rec("contact", key, rec.line, rec.element)
                rows.append(
                    (
                        sub,
                        {
                            f"{owner}_id": pk,
                            "kind": contact.kind,
                            "label": contact.label[:40],
                            "value": contact.value,
                            "is_primary": contact.is_primary,
                        },
                    )
                )
        if rows:
            self._upsert_plain(sm.ContactDetail, "contact_details", rows)

    def _upsert_plain(
        self, model: type[models.Model], entity: str, rows: list[tuple[Rec, dict[str, Any]]]
    ) -> None:
        """Upsert rows of a model that no kind references (contacts, derived programs)."""
        KINDS.setdefault(f"_{entity}", (model, "", entity))
        self.upsert(f"_{entity}", rows)

    # --- loaders, one per kind -------------------------------------------------------------

    def _load_edorg(self, recs: list[Rec]) -> None:
        rows = []
        for rec in recs:
            category = rec.values["category"]
            self.org_category[rec.key] = category
            if category == "lea":
                if rec.key not in self.lea_ids:
                    self.error(
                        rec, "a second local education agency: import one district at a time"
                    )
                continue
            if category != "school":
                self.not_kept[f"{rec.element} ({category.upper()})"] += 1
                continue
            level = sm.SchoolLevel.OTHER
            for name in rec.values["school_categories"]:
                level = SCHOOL_LEVELS.get(name.lower(), level)
            rows.append(
                (
                    rec,
                    {
                        "name": rec.values["name"],
                        "school_number": rec.values["school_number"],
                        "level": level,
                        "grade_levels": rec.values["grade_levels"],
                    },
                )
            )
        self.upsert("school", rows)

    def _load_program(self, recs: list[Rec]) -> None:
        for rec in recs:
            self.programs[rec.key] = rec.values
        self.not_kept["Program (kept as each participation's program name)"] += len(recs)

    def _load_course(self, recs: list[Rec]) -> None:
        self.resolve_batch(recs)
        rows = []
        for rec in recs:
            school_id = self.resolve(rec, cast(Ref, rec.refs["school"]), required=False)
            rows.append((rec, {**rec.values, "school_id": school_id}))
        for rec, pk in self.upsert("course", rows):
            self.course_subject[pk] = rec.values["subject"]

    def _load_calendar_date(self, recs: list[Rec]) -> None:
        self.resolve_batch(recs)
        rows = [
            (
                rec,
                {
                    **rec.values,
                    "school_id": self.resolve(rec, cast(Ref, rec.refs["school"]), required=False),
                },
            )
            for rec in recs
        ]
        self.upsert("calendar_date", rows)

    def _load_grading_period(self, recs: list[Rec]) -> None:
        self.resolve_batch(recs)
        rows = []
        for rec in recs:
            values = dict(rec.values)
            values["school_year"] = values["school_year"] or values["end_date"].year
            values["kind"] = sm.SessionKind.GRADING_PERIOD
            values["school_id"] = self.resolve(rec, cast(Ref, rec.refs["school"]), required=False)
            rows.append((rec, values))
        self.upsert("grading_period", rows)

    def _load_session(self, recs: list[Rec]) -> None:
        self.resolve_batch(recs)
        rows = []
        for rec in recs:
            values = dict(rec.values)
            term = values.pop("term").lower()
            if "semester" in term:
                values["kind"] = sm.SessionKind.SEMESTER
            elif "year" in term:
                values["kind"] = sm.SessionKind.SCHOOL_YEAR
            else:
                values["kind"] = sm.SessionKind.TERM
            values["school_id"] = self.resolve(rec, cast(Ref, rec.refs["school"]), required=False)
            rows.append((rec, values))
        self.upsert("session", rows)

    def _load_course_offering(self, recs: list[Rec]) -> None:
        # Not a Trellis record: it links each section to its course and session.
        self.resolve_batch(recs)
        for rec in recs:
            course_id = self.resolve(rec, cast(Ref, rec.refs["course"]))
            session_id = self.resolve(rec, cast(Ref, rec.refs["session"]))
            self.resolve(rec, cast(Ref, rec.refs["school"]))
            self.offerings[rec.key] = (course_id, session_id, rec.values["title"])
        self.not_kept["CourseOffering (kept as each section's course and session)"] += len(recs)

    def _load_section(self, recs: list[Rec]) -> None:
        self.resolve_batch(recs)
        rows = []
        for rec in recs:
            school_id = self.resolve(rec, cast(Ref, rec.refs["school"]))
            session_id = None
            if rec.refs.get("session") is not None:
                session_id = self.resolve(rec, cast(Ref, rec.refs["session"]))
            course_id, title = None, ""
            offering = rec.refs.get("course_offering")
            if offering is not None:
                if offering.key in self.offerings:
                    course_id, offering_session, title = self.offerings[offering.key]
                    session_id = session_id or offering_session
                else:
                    self.warn(f"a section's course offering is not in the files: {offering.key!r}")
            if school_id is None:
                continue
            rows.append(
                (
                    rec,
                    {
                        "school_id": school_id,
                        "session_id": session_id,
                        "course_id": course_id,
                        "title": rec.values.get("title") or rec.values["section_code"],
                        "section_code": rec.values["section_code"],
                        "subject": self.course_subject.get(course_id or 0, ""),
                    },
                )
            )
        self.upsert("section", rows)

    def _load_staff(self, recs: list[Rec]) -> None:
        rows = []
        for rec in recs:
            values = dict(rec.values)
            is_teacher = values.pop("is_teacher")
            values["kind"] = sm.StaffKind.TEACHER if is_teacher else sm.StaffKind.OTHER
            rows.append((rec, values))
        # Kind and title come from the staff's assignments once read: set here only on create.
        saved = self.upsert("staff", rows, create_only=("kind",))
        self._contacts("staff", saved)

    def _load_staff_assignment(self, recs: list[Rec]) -> None:
        self.resolve_batch(recs)
        rows: list[tuple[Rec, dict[str, Any]]] = []
        staff_updates: dict[int, tuple[str, str]] = {}
        for rec in recs:
            staff_id = self.resolve(rec, cast(Ref, rec.refs["staff"]))
            org = cast(Ref, rec.refs["org"])
            category = self.org_category.get(org.key)
            if staff_id is None:
                continue
            if category is None:
                self.resolve(rec, org)
                continue
            classification = rec.values["classification"]
            kind: str = STAFF_KINDS.get(classification.lower(), sm.StaffKind.OTHER)
            if category == "lea" and kind == sm.StaffKind.OTHER:
                kind = sm.StaffKind.DISTRICT
            if rec.extra.get("supplement"):
                # A TeacherSchoolAssociation: only adds what no assignment says already.
                staff_updates.setdefault(staff_id, (kind, ""))
            else:
                staff_updates[staff_id] = (kind, rec.values["position"])
            if category != "school":
                self.not_kept[f"{rec.element} to a {category.upper()} (kept as staff kind)"] += 1
                continue
            if rec.extra.get("supplement"):
                school_id = self.ids["school"][org.key]
                exists = sm.StaffSchoolAssignment.objects.filter(
                    staff_id=staff_id, school_id=school_id
                ).exists() or any(
                    # Staff assignments always carry both references (common.staff_assignment);
                    # no cast in this inner loop.
                    r.refs["org"].key == org.key  # type: ignore[union-attr]  # always set
                    and r.refs["staff"].key == rec.refs["staff"].key  # type: ignore[union-attr]  # always set
                    for r, _ in rows
                )
                if exists:
                    self.merged["staff_school_assignments"] += 1
                    continue
            rows.append(
                (
                    rec,
                    {
                        "staff_id": staff_id,
                        "school_id": self.ids["school"][org.key],
                        "position": rec.values["position"],
                        "begin_date": rec.values.get("begin_date"),
                        "end_date": rec.values.get("end_date"),
                    },
                )
            )
        self.upsert("staff_assignment", rows)
        changed = []
        for staff in sm.Staff.objects.filter(pk__in=list(staff_updates)):
            kind, title = staff_updates[staff.pk]
            title = title or staff.title
            if (staff.kind, staff.title) != (kind, title[:100]):
                staff.kind, staff.title = kind, title[:100]
                changed.append(staff)
        sm.Staff.objects.bulk_update(changed, ["kind", "title"])

    def _load_section_assignment(self, recs: list[Rec]) -> None:
        self.resolve_batch(recs)
        rows = []
        for rec in recs:
            staff_id = self.resolve(rec, cast(Ref, rec.refs["staff"]))
            section_id = self.resolve(rec, cast(Ref, rec.refs["section"]))
            if staff_id and section_id:
                rows.append((rec, {**rec.values, "staff_id": staff_id, "section_id": section_id}))
        self.upsert("section_assignment", rows)

    def _load_student(self, recs: list[Rec]) -> None:
        saved = self.upsert("student", [(rec, rec.values) for rec in recs])
        self._contacts("student", saved)
        programs = []
        for rec, pk in saved:
            for code, name in rec.extra.get("programs", []):
                sub = Rec("program", f"{rec.key}|derived|{code}", rec.line, rec.element)
                programs.append(
                    (sub, {"student_id": pk, "program": code, "program_name": name[:200]})
                )
        if programs:
            self.upsert("student_program", programs)

    def _load_parent(self, recs: list[Rec]) -> None:
        rows = []
        for rec in recs:
            values = dict(rec.values)
            if not values.get("language"):
                # Named by no source: the language Trellis holds is kept (or defaulted to a
                # child's home language when linked), never blanked.
                values.pop("language", None)
            rows.append((rec, values))
        saved = self.upsert("parent", rows)
        self._contacts("guardian", saved)

    def _load_student_parent(self, recs: list[Rec]) -> None:
        self.resolve_batch(recs)
        rows = []
        for rec in recs:
            student_id = self.resolve(rec, cast(Ref, rec.refs["student"]))
            guardian_id = self.resolve(rec, cast(Ref, rec.refs["parent"]))
            if not (student_id and guardian_id):
                continue
            values = rec.values
            relation = values["relation"]
            mapped = RELATIONS.get(relation.lower(), sm.Relationship.OTHER)
            if mapped == sm.Relationship.OTHER and relation:
                self.warn(f"relation {relation!r} kept as Other")
            restricted = bool(values["contact_restrictions"])
            rows.append(
                (
                    rec,
                    {
                        "student_id": student_id,
                        "guardian_id": guardian_id,
                        "relationship": mapped,
                        "lives_with": values["lives_with"],
                        "emergency_contact": values["emergency_contact"],
                        "contact_priority": values["contact_priority"],
                        "contact_restricted": restricted,
                    },
                )
            )
            if restricted:
                self.warn(
                    f"contact restriction {values['contact_restrictions']!r}: guardian kept as "
                    "restricted, with no portal access"
                )
        # Portal access is granted by the district in Trellis, never by an import.
        self.upsert("student_parent", rows)
        # Guardians with no language get their first child's home language: one UPDATE for
        # the batch's guardians.
        self.languages_defaulted += guardian_language_default(
            district_id=self.district.pk,
            guardian_ids={values["guardian_id"] for _rec, values in rows},
        )

    def _load_student_school(self, recs: list[Rec]) -> None:
        self.resolve_batch(recs)
        rows = []
        for rec in recs:
            student_id = self.resolve(rec, cast(Ref, rec.refs["student"]))
            school_id = self.resolve(rec, cast(Ref, rec.refs["school"]))
            if student_id and school_id:
                rows.append((rec, {**rec.values, "student_id": student_id, "school_id": school_id}))
        self.upsert("student_school", rows)

    def _load_student_section(self, recs: list[Rec]) -> None:
        self.resolve_batch(recs)
        rows = []
        for rec in recs:
            student_id = self.resolve(rec, cast(Ref, rec.refs["student"]))
            section_id = self.resolve(rec, cast(Ref, rec.refs["section"]))
            if student_id and section_id:
                rows.append(
                    (rec, {**rec.values, "student_id": student_id, "section_id": section_id})
                )
        self.upsert("student_section", rows)

    def _load_student_program(self, recs: list[Rec]) -> None:
        self.resolve_batch(recs)
        rows = []
        for rec in recs:
            student_id = self.resolve(rec, cast(Ref, rec.refs["student"]))
            program_id = cast(Ref, rec.refs["program"]).key
            # Ed-Fi 5.2 references carry the program's name and type (extra), and its
            # specialized associations say which program it is (program_code).
            program = self.programs.get(program_id) or rec.extra.get("program", {})
            name = program.get("name") or " ".join(
                p for p in (program_id, program.get("program_type", "")) if p
            )
            code = rec.extra.get("program_code") or program_code(program.get("program_type", ""))
            if student_id:
                rows.append(
                    (
                        rec,
                        {
                            **rec.values,
                            "student_id": student_id,
                            "program": code,
                            "program_name": name[:200],
                        },
                    )
                )
        self.upsert("student_program", rows)

    def _load_cohort(self, recs: list[Rec]) -> None:
        self.resolve_batch(recs)
        rows = []
        for rec in recs:
            values = dict(rec.values)
            program_id = values.pop("program_id")
            program = self.programs.get(program_id, {})
            values["program_name"] = " ".join(
                p for p in (program_id, program.get("program_type", "")) if p
            )[:200]
            values["school_id"] = self.resolve(rec, cast(Ref, rec.refs["org"]), required=False)
            rows.append((rec, values))
        self.upsert("cohort", rows)

    def _load_student_cohort(self, recs: list[Rec]) -> None:
        self.resolve_batch(recs)
        rows = []
        for rec in recs:
            student_id = self.resolve(rec, cast(Ref, rec.refs["student"]))
            cohort_id = self.resolve(rec, cast(Ref, rec.refs["cohort"]))
            if student_id and cohort_id:
                rows.append((rec, {**rec.values, "student_id": student_id, "cohort_id": cohort_id}))
        self.upsert("student_cohort", rows)

    # assessments ---------------------------------------------------------------------------

    def _load_standard(self, recs: list[Rec]) -> None:
        rows = [
            (rec, {**rec.values, "code": rec.values["code"][:120], "kind": StandardKind.STANDARD})
            for rec in recs
        ]
        saved = self.upsert("standard", rows)
        # Ed-Fi 5.2: a standard names its parent.
        for rec, pk in saved:
            for ref in rec.many.get("parents", []):
                self.pending_links.append(("child_of", rec, pk, ref))

    def _load_objective(self, recs: list[Rec]) -> None:
        self.resolve_batch(recs)
        rows = []
        for rec in recs:
            if rec.extra.get("alias"):
                self.objective_aliases.setdefault(rec.extra["alias"], rec.key)
            rows.append(
                (
                    rec,
                    {
                        **rec.values,
                        "kind": StandardKind.OBJECTIVE,
                        "framework": rec.extra.get("framework", "Learning objectives"),
                    },
                )
            )
        saved = self.upsert("objective", rows)
        # The hierarchy: an objective is the parent of the standards and objectives it lists.
        for rec, pk in saved:
            for ref in rec.many.get("standards", []) + rec.many.get("objectives", []):
                self.pending_links.append(("parent", rec, pk, ref))

    def resolve_links(self, *, final: bool) -> None:
        """Alignments and hierarchy may name records of a later file: each is linked as soon
        as its target is known; at the end, a missing standard is created from its key and a
        missing objective is an error."""
        pending, self.pending_links = self.pending_links, []
        by_kind: dict[str, set[str]] = defaultdict(set)
        for _link, _rec, _pk, ref in pending:
            by_kind[ref.kind].add(ref.key)
        for kind, keys in by_kind.items():
            if kind == "objective_alias":
                self._alias_lookup(keys)
            else:
                self._lookup(kind, keys)
        parent_of: dict[int, int] = {}
        item_parent_of: dict[int, int] = {}
        item_pairs: set[tuple[int, int]] = set()
        for link, rec, pk, ref in pending:
            if ref.kind == "objective_alias":
                alias_key = self.objective_aliases.get(ref.key)
                target = self.ids["objective"].get(alias_key) if alias_key else None
            else:
                target = self.ids[ref.kind].get(ref.key)
            if target is None and not final:
                self.pending_links.append((link, rec, pk, ref))
                continue
            if target is None:
                saved_file, self.file = self.file, rec.extra.get("file", self.file)
                target = self.resolve(rec, ref)
                self.file = saved_file
            if target is None:
                continue
            if link == "parent" and target != pk:
                parent_of.setdefault(target, pk)
            elif link == "child_of" and target != pk:
                parent_of.setdefault(pk, target)
            elif link == "item":
                item_pairs.add((pk, target))
            elif link == "item_parent" and target != pk:
                item_parent_of[pk] = target
        self._set_parents(parent_of)
        self._set_item_parents(item_parent_of)
        self._m2m_add(
            AssessmentItem.standards.through, "assessmentitem_id", "standard_id", item_pairs
        )

    def _set_item_parents(self, parent_of: dict[int, int]) -> None:
        if not parent_of:
            return
        changed = []
        for item in AssessmentItem.objects.filter(pk__in=list(parent_of)).only("pk", "parent_id"):
            if item.parent_id != parent_of[item.pk]:
                item.parent_id = parent_of[item.pk]
                changed.append(item)
        AssessmentItem.objects.bulk_update(changed, ["parent"], batch_size=BATCH)

    def _set_parents(self, parent_of: dict[int, int]) -> None:
        if not parent_of:
            return
        if connection.vendor == "postgresql":
            # One join with the pairs: bulk_update's CASE of a branch per row is evaluated
            # branch by branch for every row (quadratic in the batch).
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE assessments_standard s SET parent_id = v.parent_id"
                    " FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, parent_id)"
                    " WHERE s.id = v.id AND s.parent_id IS NULL",
                    [list(parent_of), list(parent_of.values())],
                )
            return
        changed = []
        for standard in Standard.objects.filter(pk__in=list(parent_of)).only("pk", "parent_id"):
            if standard.parent_id is None:
                standard.parent_id = parent_of[standard.pk]
                changed.append(standard)
        Standard.objects.bulk_update(changed, ["parent"], batch_size=BATCH)

    def _load_assessment(self, recs: list[Rec]) -> None:
        rows = []
        for rec in recs:
            values = dict(rec.values)
            grade = values.pop("grade")
            family, category = values["family"], values["category"]
            purpose = (
                AssessmentPurpose.STATE
                if "state" in f"{family} {category}".lower()
                else AssessmentPurpose.SUMMATIVE
            )
            values["min_points"] = values["min_points"] or Decimal(0)
            values["title"] = values["title"] if not grade else f"{values['title']}"
            rows.append((rec, {**values, "kind": AssessmentKind.TEST, "purpose": purpose}))
        saved = self.upsert("assessment", rows)
        levels: list[tuple[int, dict[str, Any]]] = []
        for rec, pk in saved:
            seen_codes: set[str] = set()
            for level in rec.extra.get("performance_levels", []):
                if level["code"] in seen_codes:
                    continue
                seen_codes.add(level["code"])
                levels.append((pk, level))
        self._performance_levels(levels)

    def _performance_levels(self, levels: list[tuple[int, dict[str, Any]]]) -> None:
        if not levels:
            return
        existing = {
            (p.assessment_id, p.code): p
            for p in PerformanceLevel.objects.filter(assessment_id__in={a for a, _ in levels})
        }
        new, changed, unchanged = [], [], 0
        for assessment_id, level in levels:
            values = {
                "name": level["name"][:120],
                "min_score": level["min_score"],
                "max_score": level["max_score"],
                "rank": level["rank"],
            }
            current = existing.get((assessment_id, level["code"][:60]))
            if current is None:
                new.append(
                    PerformanceLevel(assessment_id=assessment_id, code=level["code"][:60], **values)
                )
            elif any(getattr(current, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(current, k, v)
                changed.append(current)
            else:
                unchanged += 1
        PerformanceLevel.objects.bulk_create(new)
        PerformanceLevel.objects.bulk_update(changed, ["name", "min_score", "max_score", "rank"])
        self.report.count(
            "performance_levels", created=len(new), updated=len(changed), unchanged=unchanged
        )

    def _load_items(self, kind: str, item_kind: str, recs: list[Rec]) -> None:
        self.resolve_batch(recs)
        rows = []
        for rec in recs:
            assessment_id = self.resolve(rec, cast(Ref, rec.refs["assessment"]))
            if assessment_id:
                rows.append(
                    (
                        rec,
                        {
                            **rec.values,
                            "assessment_id": assessment_id,
                            "kind": item_kind,
                            "code": rec.values["code"][:120],
                            "title": rec.values["title"][:250],
                        },
                    )
                )
        saved = self.upsert(kind, rows)
        for rec, pk in saved:
            for ref in rec.many.get("standards", []) + rec.many.get("objectives", []):
                self.pending_links.append(("item", rec, pk, ref))
            # Ed-Fi 5.2: an objective assessment names its parent.
            parent = rec.refs.get("parent")
            if parent is not None:
                self.pending_links.append(("item_parent", rec, pk, parent))
        # Nested objective assessments: the parent lists its children.
        parent_of: dict[str, int] = {}
        for rec, pk in saved:
            for ref in rec.many.get("children", []):
                parent_of[ref.key] = pk
        if parent_of:
            self._lookup("objective_assessment", set(parent_of))
            changed = []
            child_ids = {self.ids["objective_assessment"].get(k): p for k, p in parent_of.items()}
            for item in AssessmentItem.objects.filter(pk__in=[k for k in child_ids if k]):
                if item.parent_id != child_ids[item.pk]:
                    item.parent_id = child_ids[item.pk]
                    changed.append(item)
            AssessmentItem.objects.bulk_update(changed, ["parent"])

    def _load_objective_assessment(self, recs: list[Rec]) -> None:
        self._load_items("objective_assessment", ItemKind.OBJECTIVE, recs)

    def _load_assessment_item(self, recs: list[Rec]) -> None:
        self._load_items("assessment_item", ItemKind.ITEM, recs)

    def _record_scores(self, inputs: list[ScoreInput]) -> None:
        """Queue scores for flush_scores (written once SCORE_BATCH wait, or at a pass's end)."""
        waiting = self.scores
        for score in inputs:
            key = (score.student_id, score.assessment_id, score.item_id, score.scored_on)
            earlier = waiting.get(key)
            if earlier is not None:
                # The same score twice before it was written: the later one is kept, as if it
                # had corrected the earlier one once written.
                self.scores_repeated["updated" if earlier != score else "unchanged"] += 1
            waiting[key] = score
        if len(waiting) >= SCORE_BATCH:
            self.flush_scores()

    def flush_scores(self) -> None:
        """Write the waiting scores set-based (scores_record_bulk); recomputes are enqueued once
        for the whole run (service.edfi_run), not per batch."""
        if not self.scores:
            return
        waiting, self.scores = self.scores, {}
        result = scores_record_bulk(scores=waiting.values(), source=ScoreSource.IMPORTED)
        self.estimate_ids.update(result.estimate_ids)
        repeated, self.scores_repeated = self.scores_repeated, Counter()
        created = result.created
        updated = result.updated + repeated["updated"]
        self.report.count(
            "scores",
            created=created,
            updated=updated,
            unchanged=result.unchanged + repeated["unchanged"],
        )

    def _load_student_assessment(self, recs: list[Rec]) -> None:
        self.resolve_batch(recs)
        wanted: list[tuple[Rec, int, int]] = []
        for rec in recs:
            student_id = self.resolve(rec, cast(Ref, rec.refs["student"]))
            assessment_id = self.resolve(rec, cast(Ref, rec.refs["assessment"]))
            if student_id and assessment_id:
                wanted.append((rec, student_id, assessment_id))
        self._student_results("student_assessment", wanted)

    def _student_results(self, kind: str, wanted: list[tuple[Rec, int, int]]) -> None:
        """Result rows (one per student, assessment and date) written with their source ids
        and levels first, then their scores through scores_record, which finds them."""
        _model, prefix, entity = KINDS[kind]
        in_sql = connection.vendor == "postgresql"
        existing = (
            {}
            if in_sql
            else {
                (r.student_id, r.assessment_id, r.administered_on): r
                for r in StudentAssessment.objects.filter(
                    student_id__in={s for _, s, _ in wanted},
                    assessment_id__in={a for _, _, a in wanted},
                )
            }
        )
        # PostgreSQL: (student, assessment, date) -> the values written set-based below.
        staged: dict[tuple[int, int, date], tuple[str, int | None, str]] = {}
        levels = {
            (p.assessment_id, p.code): p.pk
            for p in PerformanceLevel.objects.filter(assessment_id__in={a for _, _, a in wanted})
        }
        inputs, new, changed = [], [], []
        unchanged = 0
        for rec, student_id, assessment_id in wanted:
            when = rec.values["administered_on"]
            points = _number(rec.values.get("result", ""))
            status = ScoreStatus.SCORED
            if points is None and rec.values.get("reason_not_tested"):
                status = ScoreStatus.EXEMPT
            level_code = rec.values.get("performance_level", "")
            level_id = levels.get((assessment_id, level_code)) if level_code else None
            if level_code and level_id is None:
                self.warn(
                    f"a result's performance level {level_code!r} is not one its assessment "
                    "defines: the result is kept without a level"
                )
            values = {
                "source_system": SOURCE_SYSTEM,
                "source_id": prefix + rec.key,
                "performance_level_id": level_id,
                "status": status,
                "is_active": True,
            }
            key = (student_id, assessment_id, when)
            if in_sql:
                row = (prefix + rec.key, level_id, status)
                if staged.get(key) == row:
                    unchanged += 1  # the same result twice in one batch
                staged[key] = row
            elif (result := existing.get(key)) is None:
                result = StudentAssessment(
                    district=self.district,
                    student_id=student_id,
                    assessment_id=assessment_id,
                    administered_on=when,
                    **values,
                )
                existing[key] = result
                new.append(result)
            else:
                diff = [k for k, v in values.items() if getattr(result, k) != v]
                for k in diff:
                    setattr(result, k, values[k])
                if diff:
                    changed.append(result)
                else:
                    unchanged += 1
            self.student_assessment_keys[prefix + rec.key] = (student_id, assessment_id, when)
            inputs.append(
                ScoreInput(
                    student_id=student_id,
                    assessment_id=assessment_id,
                    scored_on=when,
                    points=points,
                    rubric_level=rec.values.get("rubric_level", "")[:60],
                    status=status,
                    comment=rec.values.get("reason_not_tested", ""),
                    source_system=SOURCE_SYSTEM,
                    source_id=prefix + rec.key,
                )
            )
        if in_sql:
            created, updated, same = self._results_sql(staged)
            self.report.count(entity, created=created, updated=updated, unchanged=unchanged + same)
            self._record_scores(inputs)
            return
        StudentAssessment.objects.bulk_create(new, batch_size=BATCH)
        StudentAssessment.objects.bulk_update(
            changed,
            ["source_system", "source_id", "performance_level", "status", "is_active"],
            batch_size=BATCH,
        )
        self.report.count(entity, created=len(new), updated=len(changed), unchanged=unchanged)
        self._record_scores(inputs)

    def _results_sql(
        self, staged: dict[tuple[int, int, date], tuple[str, int | None, str]]
    ) -> tuple[int, int, int]:
        """Write result rows set-based (PostgreSQL): COPY into a staging table, update those
        that exist (by student, assessment and date) and differ, insert the others, as the ORM
        route does row by row. Returns (created, updated, unchanged)."""
        if not staged:
            return 0, 0, 0
        compared = "source_system, source_id, performance_level_id, status, is_active"
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS edfi_result_stage")
            cursor.execute(
                "CREATE TEMP TABLE edfi_result_stage (student_id bigint, assessment_id bigint,"
                " administered_on date, source_id varchar(255), performance_level_id bigint,"
                " status varchar(20)) ON COMMIT DROP"
            )
            with cursor.cursor.copy("COPY edfi_result_stage FROM STDIN") as copy:
                for (student_id, assessment_id, when), row in staged.items():
                    copy.write_row((student_id, assessment_id, when, *row))
            cursor.execute("ANALYZE edfi_result_stage")
            # The ORM route's bulk_update sets these columns only (not updated_at).
            cursor.execute(
                "UPDATE assessments_studentassessment sa SET source_system = %s,"
                " source_id = s.source_id, performance_level_id = s.performance_level_id,"
                " status = s.status, is_active = true FROM edfi_result_stage s"
                " WHERE sa.student_id = s.student_id AND sa.assessment_id = s.assessment_id"
                " AND sa.administered_on = s.administered_on"
                " AND (sa.source_system, sa.source_id, sa.performance_level_id, sa.status,"
                " sa.is_active) IS DISTINCT FROM"
                " (%s, s.source_id, s.performance_level_id, s.status, true)",
                [SOURCE_SYSTEM, SOURCE_SYSTEM],
            )
            updated = cursor.rowcount
            now = timezone.now()
            cursor.execute(
                f"INSERT INTO assessments_studentassessment (district_id, student_id,"  # noqa: S608
                f" assessment_id, administered_on, {compared}, created_at, updated_at)"
                " SELECT %s, s.student_id, s.assessment_id, s.administered_on, %s, s.source_id,"
                " s.performance_level_id, s.status, true, %s, %s FROM edfi_result_stage s"
                " WHERE NOT EXISTS (SELECT 1 FROM assessments_studentassessment sa"
                " WHERE sa.student_id = s.student_id AND sa.assessment_id = s.assessment_id"
                " AND sa.administered_on = s.administered_on)"
                " ORDER BY s.student_id, s.assessment_id, s.administered_on",
                [self.district.pk, SOURCE_SYSTEM, now, now],
            )
            created = cursor.rowcount
            cursor.execute("DROP TABLE edfi_result_stage")
        return created, updated, len(staged) - created - updated

    def _load_student_item_score(self, recs: list[Rec]) -> None:
        self.resolve_batch(recs)
        inputs = []
        for rec in recs:
            owner_ref = cast(Ref, rec.refs["student_assessment"])
            owner = self.student_assessment_keys.get(owner_ref.key)
            if owner is None:
                self.error(
                    rec,
                    f"unknown student assessment {owner_ref.key!r}",
                    "StudentAssessmentReference",
                )
                continue
            item_id = self.resolve(rec, cast(Ref, rec.refs["item"]))
            if item_id is not None:
                inputs.append((rec, owner, item_id))
        by_id = AssessmentItem.objects.in_bulk({item_id for _, _, item_id in inputs})
        scores = []
        for rec, (student_id, assessment_id, when), item_id in inputs:
            if by_id[item_id].assessment_id != assessment_id:
                self.error(rec, "the item belongs to another assessment", "AssessmentItemReference")
                continue
            points = _number(rec.values.get("result", ""))
            scores.append(
                ScoreInput(
                    student_id=student_id,
                    assessment_id=assessment_id,
                    scored_on=when,
                    item_id=item_id,
                    points=points,
                    rubric_level=rec.values.get("item_result", "")[:60],
                    comment=rec.values.get("response", ""),
                    source_system=SOURCE_SYSTEM,
                    source_id=rec.key[:255],
                )
            )
        if not self.report.errors:
            self._record_scores(scores)

    def _load_gradebook_entry(self, recs: list[Rec]) -> None:
        self.resolve_batch(recs)
        rows = []
        for rec in recs:
            section_id = self.resolve(rec, cast(Ref, rec.refs["section"]))
            if section_id:
                rows.append(
                    (
                        rec,
                        {
                            **rec.values,
                            "title": rec.values["title"][:250],
                            "section_id": section_id,
                            "due_on": rec.values["assigned_on"],
                            "kind": AssessmentKind.GRADEBOOK,
                            "purpose": AssessmentPurpose.FORMATIVE,
                            "max_points": Decimal(100),
                        },
                    )
                )
        self.upsert("gradebook_entry", rows)

    def _load_student_gradebook_entry(self, recs: list[Rec]) -> None:
        self.resolve_batch(recs)
        wanted = []
        # Ed-Fi 5.2 names neither the section nor the date assigned: both are the entry's.
        undated = {
            cast(Ref, rec.refs["gradebook_entry"]).key
            for rec in recs
            if not (rec.values["scored_on"] or rec.values["assigned_on"])
        }
        assigned = dict(
            Assessment.objects.filter(
                pk__in=[self.ids["gradebook_entry"].get(key) for key in undated]
            ).values_list("pk", "due_on")
            if undated
            else []
        )
        for rec in recs:
            student_id = self.resolve(rec, cast(Ref, rec.refs["student"]))
            if rec.refs.get("section") is not None:
                self.resolve(rec, cast(Ref, rec.refs["section"]))
            entry_id = self.resolve(rec, cast(Ref, rec.refs["gradebook_entry"]))
            if student_id and entry_id:
                values = rec.values
                rec.values = {
                    "administered_on": values["scored_on"]
                    or values["assigned_on"]
                    or assigned.get(entry_id),
                    "result": str(values["numeric"]) if values["numeric"] is not None else "",
                    "rubric_level": values["letter"] or values["competency"],
                }
                wanted.append((rec, student_id, entry_id))
        if not self.report.errors:
            self._student_results("student_gradebook_entry", wanted)

    def _simple(
        self, kind: str, recs: list[Rec], required: dict[str, bool]
    ) -> list[tuple[Rec, int]]:
        """Resolve each named reference into `<name>_id` and upsert the values."""
        self.resolve_batch(recs)
        rows = []
        for rec in recs:
            values = dict(rec.values)
            ok = True
            for name, is_required in required.items():
                pk = (
                    self.ref_id(rec, name, required=is_required)
                    if (is_required or rec.refs.get(name) is not None)
                    else None
                )
                if is_required and pk is None:
                    ok = False
                values[f"{name}_id"] = pk
            if ok:
                rows.append((rec, values))
        return self.upsert(kind, rows)

    def _load_grade(self, recs: list[Rec]) -> None:
        saved = self._simple(
            "grade", recs, {"student": True, "section": True, "grading_period": False}
        )
        for rec, pk in saved:
            prefix = rec.key.rsplit("|", 1)[0]
            self.grade_keys_by_prefix[prefix].append(pk)

    def _load_report_card(self, recs: list[Rec]) -> None:
        saved = self._simple("report_card", recs, {"student": True, "grading_period": False})
        pairs: set[tuple[int, int]] = set()
        for rec, pk in saved:
            for ref in rec.many.get("grades", []):
                grade_ids = self.grade_keys_by_prefix.get(ref.key) or list(
                    sm.Grade.objects.filter(
                        district=self.district,
                        source_system=SOURCE_SYSTEM,
                        source_id__startswith=ref.key + "|",
                    ).values_list("pk", flat=True)
                )
                if not grade_ids:
                    self.error(rec, f"unknown grade {ref.key!r}", "GradeReference")
                pairs.update((pk, grade_id) for grade_id in grade_ids)
        self._m2m_add(sm.ReportCard.grades.through, "reportcard_id", "grade_id", pairs)

    def _load_academic_record(self, recs: list[Rec]) -> None:
        self._simple("academic_record", recs, {"student": True, "session": False})

    def _load_course_transcript(self, recs: list[Rec]) -> None:
        self._simple(
            "course_transcript",
            recs,
            {"student": True, "academic_record": True, "course": True, "school": False},
        )

    def _load_student_competency(self, recs: list[Rec]) -> None:
        self._simple(
            "student_competency", recs, {"student": True, "section": True, "objective": True}
        )

    def _load_attendance_event(self, recs: list[Rec]) -> None:
        for rec in recs:
            raw = rec.values["category"]
            category = ATTENDANCE.get(raw.lower(), sm.AttendanceCategory.OTHER)
            if category == sm.AttendanceCategory.OTHER:
                self.warn(f"attendance category {raw!r} kept as Other")
            rec.values = {**rec.values, "category": category}
        self._simple("attendance_event", recs, {"student": True, "school": False, "section": False})

    def _load_discipline_incident(self, recs: list[Rec]) -> None:
        self._simple("discipline_incident", recs, {"school": True, "reported_by": False})

    def _load_student_discipline_incident(self, recs: list[Rec]) -> None:
        self._simple("student_discipline_incident", recs, {"student": True, "incident": True})

    def _load_discipline_action(self, recs: list[Rec]) -> None:
        saved = self._simple(
            "discipline_action",
            recs,
            {
                "incident": False,
                "assigned_by": False,
                "responsibility_school": False,
                "assignment_school": False,
            },
        )
        pairs = set()
        for rec, pk in saved:
            for ref in rec.many.get("students", []):
                student_id = self.resolve(rec, ref)
                if student_id:
                    pairs.add((pk, student_id))
        self._m2m_add(
            sm.DisciplineAction.students.through, "disciplineaction_id", "student_id", pairs
        )
