"""The OneRoster CSV files and columns, per version (1.1, and 1.2 in CSV binding 1.2.1), in the
standard's order (the exporter writes them in this order), with the columns a file must have.

Columns beyond these (vendor `ext_*`, `metadata.*` and any other) are never an error: they are
kept on the record a row becomes and exported again (interop.oneroster.vendor).
"""

from __future__ import annotations

from dataclasses import dataclass

COMMON = ("sourcedId", "status", "dateLastModified")


@dataclass(frozen=True)
class FileSpec:
    name: str  # without .csv, as in the manifest's file.<name>
    columns: tuple[str, ...]
    required: tuple[str, ...]

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"


def _spec(name: str, columns: tuple[str, ...], required: tuple[str, ...]) -> FileSpec:
    return FileSpec(name, columns, required)


ACADEMIC_SESSIONS = _spec(
    "academicSessions",
    (*COMMON, "title", "type", "startDate", "endDate", "parentSourcedId", "schoolYear"),
    ("sourcedId", "title", "type", "startDate", "endDate", "schoolYear"),
)
ORGS = _spec(
    "orgs",
    (*COMMON, "name", "type", "identifier", "parentSourcedId"),
    ("sourcedId", "name", "type"),
)
COURSES = _spec(
    "courses",
    (
        *COMMON,
        "schoolYearSourcedId",
        "title",
        "courseCode",
        "grades",
        "orgSourcedId",
        "subjects",
        "subjectCodes",
    ),
    ("sourcedId", "title", "orgSourcedId"),
)
CLASSES = _spec(
    "classes",
    (
        *COMMON,
        "title",
        "grades",
        "courseSourcedId",
        "classCode",
        "classType",
        "location",
        "schoolSourcedId",
        "termSourcedIds",
        "subjects",
        "subjectCodes",
        "periods",
    ),
    ("sourcedId", "title", "courseSourcedId", "classType", "schoolSourcedId", "termSourcedIds"),
)
ENROLLMENTS = _spec(
    "enrollments",
    (
        *COMMON,
        "classSourcedId",
        "schoolSourcedId",
        "userSourcedId",
        "role",
        "primary",
        "beginDate",
        "endDate",
    ),
    ("sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"),
)
DEMOGRAPHICS = _spec(
    "demographics",
    (
        *COMMON,
        "birthDate",
        "sex",
        "americanIndianOrAlaskaNative",
        "asian",
        "blackOrAfricanAmerican",
        "nativeHawaiianOrOtherPacificIslander",
        "white",
        "demographicRaceTwoOrMoreRaces",
        "hispanicOrLatinoEthnicity",
        "countryOfBirthCode",
        "stateOfBirthAbbreviation",
        "cityOfBirth",
        "publicSchoolResidenceStatus",
    ),
    ("sourcedId",),
)
USERS_11 = _spec(
    "users",
    (
        *COMMON,
        "enabledUser",
        "orgSourcedIds",
        "role",
        "username",
        "userIds",
        "givenName",
        "familyName",
        "middleName",
        "identifier",
        "email",
        "sms",
        "phone",
        "agentSourcedIds",
        "grades",
        "password",
    ),
    ("sourcedId", "enabledUser", "orgSourcedIds", "role", "username", "givenName", "familyName"),
)
USERS_12 = _spec(
    "users",
    (
        *COMMON,
        "enabledUser",
        "username",
        "userIds",
        "givenName",
        "familyName",
        "middleName",
        "identifier",
        "email",
        "sms",
        "phone",
        "agentSourcedIds",
        "grades",
        "password",
        "userMasterIdentifier",
        "resourceSourcedIds",
        "preferredGivenName",
        "preferredMiddleName",
        "preferredFamilyName",
        "primaryOrgSourcedId",
        "pronouns",
    ),
    ("sourcedId", "enabledUser", "username", "givenName", "familyName"),
)
ROLES = _spec(
    "roles",
    (
        *COMMON,
        "userSourcedId",
        "roleType",
        "role",
        "beginDate",
        "endDate",
        "orgSourcedId",
        "userProfileSourcedId",
    ),
    ("sourcedId", "userSourcedId", "roleType", "role", "orgSourcedId"),
)
USER_PROFILES = _spec(
    "userProfiles",
    (
        *COMMON,
        "userSourcedId",
        "profileType",
        "vendorId",
        "applicationId",
        "description",
        "credentialType",
        "username",
        "password",
    ),
    ("sourcedId", "userSourcedId", "profileType", "vendorId", "credentialType", "username"),
)
CATEGORIES_11 = _spec("categories", (*COMMON, "title"), ("sourcedId", "title"))
CATEGORIES_12 = _spec("categories", (*COMMON, "title", "weight"), ("sourcedId", "title"))
LINE_ITEMS_11 = _spec(
    "lineItems",
    (
        *COMMON,
        "title",
        "description",
        "assignDate",
        "dueDate",
        "classSourcedId",
        "categorySourcedId",
        "gradingPeriodSourcedId",
        "resultValueMin",
        "resultValueMax",
    ),
    (
        "sourcedId",
        "title",
        "assignDate",
        "dueDate",
        "classSourcedId",
        "categorySourcedId",
        "gradingPeriodSourcedId",
        "resultValueMin",
        "resultValueMax",
    ),
)
LINE_ITEMS_12 = _spec(
    "lineItems",
    (*LINE_ITEMS_11.columns, "schoolSourcedId"),
    ("sourcedId", "title", "assignDate", "dueDate", "classSourcedId"),
)
RESULTS_11 = _spec(
    "results",
    (
        *COMMON,
        "lineItemSourcedId",
        "studentSourcedId",
        "scoreStatus",
        "score",
        "scoreDate",
        "comment",
    ),
    ("sourcedId", "lineItemSourcedId", "studentSourcedId", "scoreStatus", "score", "scoreDate"),
)
RESULTS_12 = _spec(
    "results",
    (
        *COMMON,
        "lineItemSourcedId",
        "studentSourcedId",
        "scoreStatus",
        "score",
        "textScore",
        "scoreDate",
        "comment",
        "inProgress",
        "incomplete",
        "late",
        "missing",
    ),
    ("sourcedId", "lineItemSourcedId", "studentSourcedId", "scoreStatus", "scoreDate"),
)
SCORE_SCALES = _spec(
    "scoreScales",
    (*COMMON, "title", "type", "courseSourcedId", "classSourcedId", "scoreScaleValue"),
    ("sourcedId", "title", "type", "scoreScaleValue"),
)
LINE_ITEM_LEARNING_OBJECTIVE_IDS = _spec(
    "lineItemLearningObjectiveIds",
    ("lineItemSourcedId", "source", "learningObjectiveId"),
    ("lineItemSourcedId", "source", "learningObjectiveId"),
)
RESULT_LEARNING_OBJECTIVE_IDS = _spec(
    "resultLearningObjectiveIds",
    ("resultSourcedId", "source", "learningObjectiveId", "score", "textScore"),
    ("resultSourcedId", "source", "learningObjectiveId"),
)
LINE_ITEM_SCORE_SCALES = _spec(
    "lineItemScoreScales",
    ("lineItemSourcedId", "scoreScaleSourcedId"),
    ("lineItemSourcedId", "scoreScaleSourcedId"),
)
RESULT_SCORE_SCALES = _spec(
    "resultScoreScales",
    ("resultSourcedId", "scoreScaleSourcedId"),
    ("resultSourcedId", "scoreScaleSourcedId"),
)

# Files each version defines, in the order they are imported (references point backwards).
FILES: dict[str, tuple[FileSpec, ...]] = {
    "1.1": (
        ORGS,
        ACADEMIC_SESSIONS,
        COURSES,
        CLASSES,
        DEMOGRAPHICS,
        USERS_11,
        ENROLLMENTS,
        CATEGORIES_11,
        LINE_ITEMS_11,
        RESULTS_11,
    ),
    "1.2": (
        ORGS,
        ACADEMIC_SESSIONS,
        COURSES,
        CLASSES,
        ROLES,
        DEMOGRAPHICS,
        USERS_12,
        USER_PROFILES,
        ENROLLMENTS,
        CATEGORIES_12,
        SCORE_SCALES,
        LINE_ITEMS_12,
        LINE_ITEM_LEARNING_OBJECTIVE_IDS,
        LINE_ITEM_SCORE_SCALES,
        RESULTS_12,
        RESULT_LEARNING_OBJECTIVE_IDS,
        RESULT_SCORE_SCALES,
    ),
}
# Files the standard defines that Trellis has no home for (resources): read past, with a note.
UNSUPPORTED_FILES = {"resources", "classResources", "courseResources", "userResources"}
# Every file.<name> line of a version's manifest, in the order the CSV binding's manifest table
# lists them (1.2 added roles, userProfiles, userResources and the score-scale and
# learning-objective files); an export declares each, `absent` for those it does not write.
MANIFEST_FILES: dict[str, tuple[str, ...]] = {
    "1.1": (
        "academicSessions",
        "categories",
        "classes",
        "classResources",
        "courses",
        "courseResources",
        "demographics",
        "enrollments",
        "lineItems",
        "orgs",
        "resources",
        "results",
        "users",
    ),
    "1.2": (
        "academicSessions",
        "categories",
        "classes",
        "classResources",
        "courses",
        "courseResources",
        "demographics",
        "enrollments",
        "lineItemLearningObjectiveIds",
        "lineItems",
        "lineItemScoreScales",
        "orgs",
        "resources",
        "resultLearningObjectiveIds",
        "results",
        "resultScoreScales",
        "roles",
        "scoreScales",
        "userProfiles",
        "userResources",
        "users",
    ),
}
MANIFEST = "manifest.csv"
MODES = ("bulk", "delta", "absent")

STATUSES = ("active", "tobedeleted")
# 1.0-era status values and what they mean in 1.1 and 1.2 (a record no longer in use).
OLDER_STATUSES = {"inactive": "tobedeleted"}
ORG_TYPES = ("department", "district", "local", "national", "school", "state")
SESSION_TYPES = {
    "gradingPeriod": "grading_period",
    "semester": "semester",
    "schoolYear": "school_year",
    "term": "term",
}
CLASS_TYPES = ("homeroom", "scheduled")
ENROLLMENT_ROLES = ("administrator", "proctor", "student", "teacher", "aide")
USER_ROLES = {
    "1.1": (
        "administrator",
        "aide",
        "guardian",
        "parent",
        "proctor",
        "relative",
        "student",
        "teacher",
    ),
    "1.2": (
        "aide",
        "counselor",
        "districtAdministrator",
        "guardian",
        "parent",
        "principal",
        "proctor",
        "relative",
        "siteAdministrator",
        "student",
        "systemAdministrator",
        "teacher",
    ),
}
# 1.1 role names that 1.2 split by the org the role is held at (roles.csv): a district's
# administrator is a districtAdministrator, a school's a siteAdministrator.
OLDER_ROLES_BY_ORG = {
    "administrator": {"district": "districtAdministrator", "school": "siteAdministrator"},
}
ROLE_TYPES = ("primary", "secondary")
SEXES = {"1.1": ("male", "female"), "1.2": ("male", "female", "other", "unspecified")}
SCORE_STATUSES = ("exempt", "fully graded", "not submitted", "partially graded", "submitted")
# CEDS grade levels, as OneRoster uses them.
GRADES = (
    "IT",
    "PR",
    "PK",
    "TK",
    "KG",
    "01",
    "02",
    "03",
    "04",
    "05",
    "06",
    "07",
    "08",
    "09",
    "10",
    "11",
    "12",
    "13",
    "PS",
    "UG",
    "Other",
)
