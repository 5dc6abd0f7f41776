"""The demo district: a realistic synthetic district, the same for the same seed, built in bulk.

`build_demo_district` runs SEED_STEPS in order over one DemoBuild (the working state). Each step
draws from its own random streams, named after the step, so a step added later (assessments,
scores, mastery: `seed_step_register`) changes nothing that the earlier steps produce.

Every row is written with bulk_create in batches. Students and their families are generated
family by family and flushed every BATCH_SIZE students, so memory holds ids and small per-slot
arrays, never the whole district's objects.

What the generator guarantees (the tests rely on it):
- schools: max(3, round(students / 570)), at least one elementary (K-5), middle (6-8) and high
  (9-12) school;
- sections: with 260 students or more, every section holds 20-26 students. Elementary students
  sit in one homeroom per grade, which meets as a Mathematics and an ELA section; middle and high
  school students take Mathematics, ELA, Science and Social Studies, each a section of its own;
- teachers: about one per 15 students (homeroom and subject teachers, then special education,
  English learner, intervention and specials teachers up to that ratio; those co-teach ~12% of
  sections);
- every student has at least one guardian relationship; siblings share their guardians; about
  2% of guardians are contact-restricted (never with portal access); some children live in two
  households (each parent's address differs);
- programs (current as of today): IEP ~13%, 504 ~3%, English learner ~10% (mostly students whose
  home language is not English), free/reduced lunch ~40% (decided per family), gifted ~7%.
  Some students also carry ended rows (former English learners, exited IEPs).
- names, addresses and contacts are fictional: emails use example.com/.net/.org, phone numbers
  the 555-01xx range reserved for fiction.
"""

import random
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from allauth.account.models import EmailAddress
from django.apps import apps
from django.core.files.storage import default_storage
from django.db import models, reset_queries, transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import derived_access_sync, role_grant, staff_login_provision
from demo.rights import demo_notice_publish
from lessons.models import PlanMaterial
from students.models import (
    AcademicSession,
    ContactDetail,
    ContactKind,
    ContactMethod,
    ContactTime,
    Course,
    District,
    Enrollment,
    Guardian,
    GuardianRelationship,
    Program,
    ProgramParticipation,
    Relationship,
    School,
    SchoolLevel,
    Section,
    SectionAssignment,
    SessionKind,
    Sex,
    Staff,
    StaffKind,
    StaffSchoolAssignment,
    Student,
    StudentSchoolMembership,
    grade_label,
)

if TYPE_CHECKING:
    from faker import Faker

DEMO_SOURCE = "demo"
DEMO_DISTRICT_SOURCE_ID = "district"
DEMO_PASSWORD = "trellis-demo"  # noqa: S105 - the published demo password
DEMO_LOGINS = {
    "teacher": "teacher@example.org",
    "principal": "principal@example.org",
    "parent": "parent@example.org",
    "district": "district@example.org",
}
# Enough for the principal's (middle) school to hold 400 students: school pages show groups.
DEFAULT_STUDENTS = 1800
DEFAULT_SEED = 2026
MIN_STUDENTS = 50

BATCH_SIZE = 2000
STUDENTS_PER_SCHOOL = 570
STUDENTS_PER_TEACHER = 15
SECTION_MIN, SECTION_TARGET, SECTION_MAX = 20, 23, 26
CO_TEACHER_RATE = 0.12

GRADES = ["KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"]
LEVEL_GRADES = {
    SchoolLevel.ELEMENTARY: range(0, 6),
    SchoolLevel.MIDDLE: range(6, 9),
    SchoolLevel.HIGH: range(9, 13),
}
LEVEL_SUFFIX = {
    SchoolLevel.ELEMENTARY: "Elementary School",
    SchoolLevel.MIDDLE: "Middle School",
    SchoolLevel.HIGH: "High School",
}
# Class periods in a middle and a high school day; grade g's subject s meets in period
# 1 + (s + g) % periods, so no student and no teacher is in two places at once.
LEVEL_PERIODS = {SchoolLevel.MIDDLE: 6, SchoolLevel.HIGH: 7}

# (key, subject name, course code prefix); elementary homerooms cover the first two.
SUBJECTS = [
    ("math", "Mathematics", "MATH"),
    ("ela", "English Language Arts", "ELA"),
    ("science", "Science", "SCI"),
    ("social_studies", "Social Studies", "SS"),
]
ELEMENTARY_SUBJECTS = 2
HIGH_COURSES = {
    "math": ["Algebra I", "Geometry", "Algebra II", "Precalculus"],
    "ela": ["English 9", "English 10", "English 11", "English 12"],
    "science": ["Biology", "Chemistry", "Physics", "Environmental Science"],
    "social_studies": ["World History", "U.S. History", "U.S. Government", "Economics"],
}
MIDDLE_COURSES = {
    "math": "Math",
    "ela": "English Language Arts",
    "science": "Science",
    "social_studies": "Social Studies",
}
SUPPORT_TITLES = [
    "Special Education Teacher",
    "English Learner Teacher",
    "Reading Interventionist",
    "Special Education Teacher",
    "Art Teacher",
    "Music Teacher",
    "Physical Education Teacher",
    "Math Interventionist",
    "Library Media Specialist",
]
CO_TEACHING_TITLES = {"Special Education Teacher", "English Learner Teacher"}
DISTRICT_TITLES = [
    "Superintendent",
    "Director of Assessment and Data",
    "Chief Academic Officer",
    "Director of Special Education",
    "Director of English Learner Services",
    "Curriculum Coordinator, Mathematics",
    "Curriculum Coordinator, Literacy",
    "Data Analyst",
    "Student Information Specialist",
]
DISTRICT_LOGIN_TITLE = "Director of Assessment and Data"
SCHOOL_NAME_WORDS = [
    "Maple", "Cedar", "Willow", "Oak", "Aspen", "Birch", "Pine", "Juniper", "Magnolia", "Sycamore",
    "River", "Lakeview", "Hillside", "Meadow", "Prairie", "Brookside", "Ridgeview", "Valley",
    "Summit", "Fairview", "Riverside", "Northfield", "Southgate", "Eastwood", "Westbrook",
]  # fmt: skip

HOME_LANGUAGES = [
    ("English", 77.0),
    ("Spanish", 14.0),
    ("Vietnamese", 2.0),
    ("Arabic", 2.0),
    ("Somali", 1.2),
    ("Chinese (Mandarin)", 1.0),
    ("Nepali", 0.8),
    ("Swahili", 0.5),
    ("French", 0.5),
    ("Russian", 0.5),
    ("Ukrainian", 0.5),
]
# Federal race categories (several may apply); hispanic_or_latino is recorded separately.
AMERICAN_INDIAN = "american_indian_or_alaska_native"
ASIAN = "asian"
BLACK = "black_or_african_american"
PACIFIC_ISLANDER = "native_hawaiian_or_other_pacific_islander"
WHITE = "white"
# (races, hispanic_or_latino, weight) by home language; English covers everyone else.
ETHNICITY = {
    "English": [
        ([WHITE], False, 52.0),
        ([BLACK], False, 20.0),
        ([WHITE], True, 9.0),
        ([ASIAN], False, 4.0),
        ([BLACK, WHITE], False, 4.0),
        ([AMERICAN_INDIAN, WHITE], False, 1.5),
        ([ASIAN, WHITE], False, 1.5),
        ([AMERICAN_INDIAN], False, 1.0),
        ([PACIFIC_ISLANDER], False, 0.5),
        ([], False, 1.0),
    ],
    "Spanish": [
        ([WHITE], True, 70.0),
        ([], True, 12.0),
        ([AMERICAN_INDIAN, WHITE], True, 8.0),
        ([BLACK], True, 5.0),
        ([AMERICAN_INDIAN], True, 5.0),
    ],
    "Vietnamese": [([ASIAN], False, 1.0)],
    "Chinese (Mandarin)": [([ASIAN], False, 1.0)],
    "Nepali": [([ASIAN], False, 1.0)],
    "Arabic": [([WHITE], False, 1.0)],
    "Somali": [([BLACK], False, 1.0)],
    "Swahili": [([BLACK], False, 1.0)],
    "French": [([BLACK], False, 3.0), ([WHITE], False, 1.0)],
    "Russian": [([WHITE], False, 1.0)],
    "Ukrainian": [([WHITE], False, 1.0)],
}
# Small curated pools (surnames, female, male) so that names fit the home language.
NAME_POOLS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "Spanish": (
        ["Garcia", "Martinez", "Rodriguez", "Hernandez", "Lopez", "Gonzalez", "Perez",
         "Sanchez", "Ramirez", "Torres", "Flores", "Rivera", "Gomez", "Diaz", "Morales",
         "Reyes", "Cruz", "Ortiz", "Gutierrez", "Chavez", "Ramos", "Mendoza", "Castillo"],
        ["Sofia", "Valentina", "Camila", "Isabella", "Ximena", "Lucia", "Mariana", "Daniela",
         "Gabriela", "Maria", "Ana", "Paola", "Guadalupe", "Alejandra", "Rosa", "Elena"],
        ["Santiago", "Mateo", "Diego", "Sebastian", "Alejandro", "Carlos", "Jose", "Luis",
         "Miguel", "Juan", "Javier", "Emiliano", "Jorge", "Ricardo", "Andres", "Fernando"],
    ),
    "Vietnamese": (
        ["Nguyen", "Tran", "Le", "Pham", "Hoang", "Phan", "Vu", "Dang", "Bui", "Do", "Ho", "Ngo"],
        ["Linh", "Mai", "Anh", "Thao", "Huong", "Trang", "Ngoc", "Lan", "Vy", "Hanh"],
        ["Minh", "Duc", "Huy", "Khoa", "Long", "Nam", "Quang", "Tuan", "Bao", "Thanh"],
    ),
    "Arabic": (
        ["Haddad", "Khalil", "Mansour", "Saleh", "Hassan", "Nasser", "Abdullah", "Farah",
         "Aziz", "Karim", "Rahman", "Younes"],
        ["Layla", "Noor", "Fatima", "Amira", "Yasmin", "Mariam", "Huda", "Salma", "Rana"],
        ["Omar", "Ahmed", "Youssef", "Khaled", "Ali", "Hamza", "Ibrahim", "Tariq", "Sami"],
    ),
    "Somali": (
        ["Ahmed", "Mohamed", "Hassan", "Abdi", "Warsame", "Farah", "Omar", "Yusuf", "Ali"],
        ["Hodan", "Amina", "Ifrah", "Sahra", "Ayaan", "Fadumo", "Nasra", "Hibo"],
        ["Abdirahman", "Mohamed", "Abdullahi", "Said", "Bashir", "Hamza", "Liban"],
    ),
    "Chinese (Mandarin)": (
        ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou"],
        ["Mei", "Xiu", "Ling", "Jing", "Yan", "Hui", "Fang", "Yu"],
        ["Wei", "Jun", "Hao", "Lei", "Ming", "Tao", "Jian", "Bo"],
    ),
    "Nepali": (
        ["Gurung", "Tamang", "Rai", "Sharma", "Thapa", "Magar", "Shrestha", "Adhikari"],
        ["Sita", "Gita", "Anjali", "Sarita", "Kabita", "Puja", "Sabina"],
        ["Ram", "Bikash", "Suman", "Prakash", "Dipesh", "Rajan", "Hari"],
    ),
    "Swahili": (
        ["Mwangi", "Otieno", "Njoroge", "Wanjiru", "Kamau", "Mutua", "Ochieng", "Baraka"],
        ["Amani", "Neema", "Zawadi", "Imani", "Rehema", "Faraji", "Upendo"],
        ["Juma", "Baraka", "Jabari", "Omari", "Hamisi", "Tumaini", "Kito"],
    ),
    "Russian": (
        ["Ivanov", "Smirnov", "Kuznetsov", "Popov", "Volkov", "Sokolov", "Morozov"],
        ["Anna", "Olga", "Natalia", "Irina", "Ekaterina", "Svetlana", "Daria"],
        ["Dmitri", "Alexei", "Sergei", "Ivan", "Nikolai", "Andrei", "Mikhail"],
    ),
    "Ukrainian": (
        ["Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Kravchenko", "Melnyk"],
        ["Oksana", "Yulia", "Kateryna", "Olena", "Tetiana", "Iryna", "Sofiia"],
        ["Taras", "Oleksandr", "Andriy", "Bohdan", "Yaroslav", "Mykola", "Dmytro"],
    ),
}  # fmt: skip
IEP_CATEGORIES = [
    ("Specific learning disability", 33.0),
    ("Speech or language impairment", 19.0),
    ("Other health impairment", 15.0),
    ("Autism", 12.0),
    ("Developmental delay", 7.0),
    ("Intellectual disability", 6.0),
    ("Emotional disturbance", 5.0),
    ("Multiple disabilities", 2.0),
    ("Hearing impairment", 1.0),
]
AREA_CODES = ["502", "859", "812", "317", "614", "303", "720", "505", "971", "206", "919", "615"]
EMAIL_DOMAINS = ["example.com", "example.net", "example.org"]
STAFF_EMAIL_DOMAIN = "schools.example.org"
STUDENT_EMAIL_DOMAIN = "students.example.org"

# Family structures: (name, weight, chance of free/reduced lunch for the family).
FAMILY_KINDS = [
    ("two_parents", 52.0, 0.33),
    ("single_parent", 24.0, 0.55),
    ("two_households", 13.0, 0.42),
    ("restricted_parent", 4.0, 0.50),
    ("kin", 7.0, 0.50),
]
CHILDREN_PER_FAMILY = [(1, 55.0), (2, 32.0), (3, 10.0), (4, 3.0)]


class Writer(Protocol):
    def write(self, msg: str) -> Any: ...


def _weighted(rng: random.Random, options: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([value for value, _ in options], weights=[w for _, w in options])[0]


def _weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _weekday_before(day: date) -> date:
    day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` over `weights` (largest remainder), at least one each when there is enough."""
    floor = 1 if total >= len(weights) else 0
    counts = [floor] * len(weights)
    rest = total - floor * len(weights)
    weight_sum = sum(weights)
    shares = [rest * weight / weight_sum for weight in weights]
    for index, share in enumerate(shares):
        counts[index] += int(share)
    leftover = total - sum(counts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(shares[i] % 1), i))
    for index in by_remainder[:leftover]:
        counts[index] += 1
    return counts


def section_sizes_plan(students: int, sections: int, rng: random.Random) -> list[int]:
    """Sizes summing to `students`, spread over [SECTION_MIN, SECTION_MAX] when the mean allows."""
    base, extra = divmod(students, sections)
    sizes = [base + (1 if index < extra else 0) for index in range(sections)]
    # Move students between sections, within the band, so that rosters vary as real ones do.
    for _ in range(2 * sections):
        donor, taker, step = rng.randrange(sections), rng.randrange(sections), rng.randint(1, 3)
        if (
            donor != taker
            and sizes[donor] - step >= SECTION_MIN
            and sizes[taker] + step <= (SECTION_MAX)
        ):
            sizes[donor] -= step
            sizes[taker] += step
    rng.shuffle(sizes)
    return sizes


@dataclass
class SchoolPlan:
    index: int
    level: SchoolLevel
    name: str
    number: str
    weight: float
    pk: int = 0
    students: int = 0


@dataclass
class Cohort:
    """One grade at one school: its sections' sizes and its range of student slots."""

    school: int
    grade: int
    sizes: list[int]
    first_slot: int

    @property
    def students(self) -> int:
        return sum(self.sizes)


@dataclass
class DemoBuild:
    """The working state that seed steps share. Steps read what earlier steps recorded."""

    students: int
    seed: int
    today: date
    stdout: Writer | None = None
    stderr: Writer | None = None
    started: float = field(default_factory=time.monotonic)
    district: District | None = None
    city: str = ""
    state: str = ""
    zipcodes: list[str] = field(default_factory=list)
    area_codes: list[str] = field(default_factory=list)
    school_year_id: int = 0
    first_day: date | None = None
    school_year_end: date | None = None
    course_ids: dict[tuple[int, str], int] = field(default_factory=dict)
    schools: list[SchoolPlan] = field(default_factory=list)
    cohorts: list[Cohort] = field(default_factory=list)
    # Per student slot: school index and grade index (slots are numbered school by school).
    slot_school: array = field(default_factory=lambda: array("i"))
    slot_grade: bytearray = field(default_factory=bytearray)
    # Per slot: the day the student entered the school this year, in days after the first day
    # (0 for nearly everyone; mid-year transfers in have more).
    slot_entry: array = field(default_factory=lambda: array("H"))
    # Per subject, per slot: the section the student sits in (0: none).
    slot_sections: list[array] = field(default_factory=list)
    teacher_ids: dict[tuple, int] = field(default_factory=dict)
    co_teacher_ids: dict[int, list[int]] = field(default_factory=dict)
    principal_ids: dict[int, int] = field(default_factory=dict)
    district_login_staff_id: int = 0
    demo_school: int = 0
    # Large districts: the high school of about ROLLUP_SCHOOL_STUDENTS (the rollup benchmark's).
    rollup_school: int | None = None
    demo_teacher_staff_id: int = 0
    demo_teacher_slots: list[int] = field(default_factory=list)
    demo_parent_guardian_id: int = 0
    demo_parent_slots: list[int] = field(default_factory=list)
    student_ids: array = field(default_factory=lambda: array("q"))
    login_user_ids: dict[str, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    def rng(self, stream: str) -> random.Random:
        """A random stream of its own for each step (string seeds are stable across runs)."""
        return random.Random(f"trellis-demo:{self.seed}:{stream}")

    def faker(self, stream: str) -> "Faker":
        # Imported here: Faker takes a tenth of a second to load, and every process loads this
        # module (the demo app registers its seed steps when Django starts).
        from faker import Faker

        fake = Faker("en_US")
        fake.seed_instance(f"trellis-demo:{self.seed}:{stream}")
        return fake

    def next_id(self, kind: str) -> int:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return self.counters[kind]

    def sourced(self, prefix: str, number: int) -> dict[str, Any]:
        assert self.district is not None  # noqa: S101 - the district step runs first
        return {
            "district": self.district,
            "source_system": DEMO_SOURCE,
            "source_id": f"{prefix}-{number:06d}",
        }

    def entry_day(self, slot: int) -> date:
        """The day the student in `slot` entered their school this school year."""
        assert self.first_day is not None  # noqa: S101 - the district step runs first
        return self.first_day + timedelta(days=self.slot_entry[slot])

    def progress(self, message: str) -> None:
        if self.stderr is not None:
            elapsed = time.monotonic() - self.started
            self.stderr.write(f"seed_demo [{elapsed:6.1f}s] {message}\n")

    def address(self, fake: "Faker", rng: random.Random) -> str:
        city = self.city if rng.random() < 0.8 else fake.city()
        return f"{fake.street_address()}, {city}, {self.state} {rng.choice(self.zipcodes)}"

    def phone(self, rng: random.Random) -> str:
        return f"({rng.choice(self.area_codes)}) 555-01{rng.randrange(100):02d}"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    who: str


@dataclass(frozen=True)
class DemoDistrict:
    """What `build_demo_district` made: the district and the ids of the objects a demo shows."""

    district: District
    school_year_id: int
    school_ids: list[int]
    demo_school_id: int
    teacher_staff_id: int
    principal_staff_id: int
    district_staff_id: int
    parent_guardian_id: int
    parent_student_ids: list[int]
    login_user_ids: dict[str, int]
    logins: list[DemoLogin]


@dataclass(frozen=True)
class SeedStep:
    name: str
    run: Callable[[DemoBuild], None]


def _bulk(model: type[models.Model], rows: list, batch_size: int = BATCH_SIZE) -> list:
    # Every model passed here has its `objects` manager, which django-stubs' Model lacks.
    return model.objects.bulk_create(  # type: ignore[attr-defined]  # stubs' Model: no objects
        rows, batch_size=batch_size
    )


# --- Steps -----------------------------------------------------------------------------------


def district_step(build: DemoBuild) -> None:
    """The district, its school year (two semesters, four quarters) and its courses."""
    fake = build.faker("district")
    rng = build.rng("district")
    build.city = fake.city()
    build.state = fake.state_abbr(include_territories=False)
    build.zipcodes = sorted({fake.zipcode_in_state(build.state) for _ in range(8)})
    build.area_codes = rng.sample(AREA_CODES, 2)
    build.district = District.objects.create(
        name=f"{build.city} Public Schools",
        state_code=build.state,
        nces_id=f"{rng.randrange(10**6, 10**7)}",
        source_system=DEMO_SOURCE,
        source_id=DEMO_DISTRICT_SOURCE_ID,
    )
    # The school year containing today runs July to June and is named by the year it ends in.
    end_year = build.today.year + 1 if build.today.month >= 7 else build.today.year
    start_year = end_year - 1
    first_day = _weekday_on_or_after(date(start_year, 8, 12))
    fall_end = _weekday_before(date(start_year, 12, 19))
    spring_start = _weekday_on_or_after(date(end_year, 1, 6))
    last_day = _weekday_before(date(end_year, 5, 30))
    build.first_day = first_day
    build.school_year_end = date(end_year, 6, 30)
    title = f"{start_year}–{end_year}"
    common = {"district": build.district, "school_year": end_year, "source_system": DEMO_SOURCE}
    (year,) = _bulk(
        AcademicSession,
        [
            AcademicSession(
                title=title,
                kind=SessionKind.SCHOOL_YEAR,
                start_date=date(start_year, 7, 1),
                end_date=date(end_year, 6, 30),
                source_id=f"ses-{end_year}",
                **common,
            )
        ],
    )
    build.school_year_id = year.pk
    semesters = _bulk(
        AcademicSession,
        [
            AcademicSession(
                parent=year,
                title=f"Fall {start_year}",
                kind=SessionKind.SEMESTER,
                start_date=first_day,
                end_date=fall_end,
                source_id=f"ses-{end_year}-s1",
                **common,
            ),
            AcademicSession(
                parent=year,
                title=f"Spring {end_year}",
                kind=SessionKind.SEMESTER,
                start_date=spring_start,
                end_date=last_day,
                source_id=f"ses-{end_year}-s2",
                **common,
            ),
        ],
    )
    q2_start = _weekday_on_or_after(date(start_year, 10, 19))
    q4_start = _weekday_on_or_after(date(end_year, 3, 16))
    quarters = [
        (semesters[0], first_day, _weekday_before(q2_start)),
        (semesters[0], q2_start, fall_end),
        (semesters[1], spring_start, _weekday_before(q4_start)),
        (semesters[1], q4_start, last_day),
    ]
    _bulk(
        AcademicSession,
        [
            AcademicSession(
                parent=semester,
                title=f"Quarter {number} {title}",
                kind=SessionKind.GRADING_PERIOD,
                start_date=start,
                end_date=end,
                source_id=f"ses-{end_year}-q{number}",
                **common,
            )
            for number, (semester, start, end) in enumerate(quarters, start=1)
        ],
    )
    courses = []
    for grade_index, grade in enumerate(GRADES):
        subjects = SUBJECTS[:ELEMENTARY_SUBJECTS] if grade_index < 6 else SUBJECTS
        for key, subject, code in subjects:
            courses.append(
                Course(
                    district=build.district,
                    title=course_title(grade_index, key),
                    course_code=f"{code}-{grade}",
                    subject=subject,
                    grade_levels=[grade],
                    source_system=DEMO_SOURCE,
                    source_id=f"crs-{key}-{grade.lower()}",
                )
            )
    for course in _bulk(Course, courses):
        build.course_ids[(GRADES.index(course.grade_levels[0]), course.subject)] = course.pk
    build.progress(f"district {build.district.name}, school year {title}, {len(courses)} courses")


def course_title(grade_index: int, subject_key: str) -> str:
    grade = GRADES[grade_index]
    if grade_index >= 9:
        return HIGH_COURSES[subject_key][grade_index - 9]
    if grade_index >= 6:
        return f"{MIDDLE_COURSES[subject_key]} {int(grade)}"
    subject = dict((key, name) for key, name, _ in SUBJECTS)[subject_key]
    return f"{grade_label(grade)} {subject}"


def schools_step(build: DemoBuild) -> None:
    """Schools by level, and the layout: how many sections of which size in each grade."""
    rng = build.rng("schools")
    fake = build.faker("schools")
    total_schools = max(3, round(build.students / STUDENTS_PER_SCHOOL))
    high = max(1, round(total_schools * 0.16))
    middle = max(1, round(total_schools * 0.19))
    elementary = max(1, total_schools - high - middle)
    used_names: set[str] = set()

    def school_name(level: SchoolLevel) -> str:
        while True:
            stem = rng.choice(SCHOOL_NAME_WORDS) if rng.random() < 0.5 else fake.last_name()
            name = f"{stem} {LEVEL_SUFFIX[level]}"
            if name not in used_names:
                used_names.add(name)
                return name

    for level, count in (
        (SchoolLevel.ELEMENTARY, elementary),
        (SchoolLevel.MIDDLE, middle),
        (SchoolLevel.HIGH, high),
    ):
        for _ in range(count):
            index = len(build.schools)
            build.schools.append(
                SchoolPlan(
                    index=index,
                    level=level,
                    name=school_name(level),
                    number=f"{101 + index}",
                    weight=rng.uniform(0.7, 1.3),
                )
            )

    _rollup_school_weight(build, high)

    # Sections first, sizes within the band, then grades and schools take whole sections.
    total_sections = max(len(GRADES), round(build.students / SECTION_TARGET))
    sizes = section_sizes_plan(build.students, total_sections, rng)
    per_grade = [total_sections // len(GRADES)] * len(GRADES)
    for grade_index in rng.sample(range(len(GRADES)), total_sections % len(GRADES)):
        per_grade[grade_index] += 1
    sections_of: dict[tuple[int, int], list[int]] = {}
    taken = 0
    for grade_index, count in enumerate(per_grade):
        level_schools = [s for s in build.schools if grade_index in LEVEL_GRADES[s.level]]
        counts = _apportion(count, [s.weight for s in level_schools])
        for school, school_count in zip(level_schools, counts, strict=True):
            sections_of[(school.index, grade_index)] = sizes[taken : taken + school_count]
            taken += school_count
    slot = 0
    for school in build.schools:
        for grade_index in LEVEL_GRADES[school.level]:
            cohort_sizes = sections_of.get((school.index, grade_index), [])
            if not cohort_sizes:
                continue
            cohort = Cohort(
                school=school.index, grade=grade_index, sizes=cohort_sizes, first_slot=slot
            )
            build.cohorts.append(cohort)
            build.slot_school.extend([school.index] * cohort.students)
            build.slot_grade.extend([grade_index] * cohort.students)
            school.students += cohort.students
            slot += cohort.students

    assert build.district is not None  # noqa: S101
    created = _bulk(
        School,
        [
            School(
                name=plan.name,
                school_number=plan.number,
                level=plan.level,
                grade_levels=[GRADES[g] for g in LEVEL_GRADES[plan.level]],
                **build.sourced("sch", plan.index + 1),
            )
            for plan in build.schools
        ],
    )
    for plan, school in zip(build.schools, created, strict=True):
        plan.pk = school.pk
    build.progress(
        f"{len(build.schools)} schools ({elementary} elementary, {middle} middle, {high} high), "
        f"{total_sections} class groups of {SECTION_MIN}-{SECTION_MAX} students"
    )


ROLLUP_SCHOOL_STUDENTS = 2000


def _rollup_school_weight(build: DemoBuild, high_schools: int) -> None:
    """In a district with several high schools, weight the first so that it holds about
    ROLLUP_SCHOOL_STUDENTS students: a large comprehensive high school, as most big districts
    have one, for the school rollups (and their benchmark) at that size."""
    high = [plan for plan in build.schools if plan.level == SchoolLevel.HIGH]
    grades = len(LEVEL_GRADES[SchoolLevel.HIGH])
    high_students = build.students * grades / len(GRADES)
    if high_schools < 4 or high_students < 3 * ROLLUP_SCHOOL_STUDENTS:
        return
    others = sum(plan.weight for plan in high[1:])
    high[0].weight = others * ROLLUP_SCHOOL_STUDENTS / (high_students - ROLLUP_SCHOOL_STUDENTS)
    build.rollup_school = high[0].index


def _teachers_needed(build: DemoBuild, school: SchoolPlan) -> dict[tuple, str]:
    """Core teacher slots of a school, keyed as sections_step looks them up, with titles."""
    needed: dict[tuple, str] = {}
    cohorts = [c for c in build.cohorts if c.school == school.index]
    if school.level == SchoolLevel.ELEMENTARY:
        for cohort in cohorts:
            for homeroom in range(len(cohort.sizes)):
                title = f"{grade_label(GRADES[cohort.grade])} Teacher"
                needed[(school.index, "homeroom", cohort.grade, homeroom)] = title
        return needed
    most = max((len(c.sizes) for c in cohorts), default=0)
    for key, subject, _ in SUBJECTS:
        for number in range(most):
            needed[(school.index, key, number)] = f"{subject} Teacher"
    return needed


def staff_step(build: DemoBuild) -> None:
    """Teachers (core and support), principals and assistant principals, counselors, district
    staff; their school assignments and work contacts."""
    rng = build.rng("staff")
    fake = build.faker("staff")
    assert build.district is not None  # noqa: S101
    assert build.first_day is not None  # noqa: S101
    # (staff, school index or None, lookup key: a tuple, "principal" or None)
    planned: list[tuple[Staff, int | None, Any]] = []
    key: tuple[Any, ...] | None

    def person(kind: str, title: str) -> Staff:
        number = build.next_id("staff")
        female = rng.random() < (0.76 if kind == StaffKind.TEACHER else 0.55)
        return Staff(
            first_name=fake.first_name_female() if female else fake.first_name_male(),
            last_name=fake.last_name(),
            staff_number=f"E{10000 + number}",
            kind=kind,
            title=title,
            **build.sourced("stf", number),
        )

    core = {}
    for school in build.schools:
        core[school.index] = _teachers_needed(build, school)
    support_total = max(
        0,
        round(build.students / STUDENTS_PER_TEACHER) - sum(len(c) for c in core.values()),
    )
    support = _apportion(support_total, [max(s.students, 1) for s in build.schools])
    for school in build.schools:
        planned.append((person(StaffKind.ADMINISTRATOR, "Principal"), school.index, "principal"))
        assistants = 1 if school.students < 900 else 2
        for _ in range(assistants):
            planned.append(
                (person(StaffKind.ADMINISTRATOR, "Assistant Principal"), school.index, None)
            )
        if school.level != SchoolLevel.ELEMENTARY or school.students > 500:
            planned.append((person(StaffKind.COUNSELOR, "School Counselor"), school.index, None))
        for key, title in core[school.index].items():
            planned.append((person(StaffKind.TEACHER, title), school.index, key))
        # Every school has a special education teacher first; the other roles rotate.
        offset = rng.randrange(len(SUPPORT_TITLES))
        for number in range(support[school.index]):
            title = SUPPORT_TITLES[0 if number == 0 else (offset + number) % len(SUPPORT_TITLES)]
            key = ("support", school.index, number) if title in CO_TEACHING_TITLES else None
            planned.append((person(StaffKind.TEACHER, title), school.index, key))
    district_count = 6 + len(build.schools) // 10
    for number in range(district_count):
        title = DISTRICT_TITLES[number % len(DISTRICT_TITLES)]
        first_of_title = number < len(DISTRICT_TITLES)
        key = ("district_login",) if title == DISTRICT_LOGIN_TITLE and first_of_title else None
        planned.append((person(StaffKind.DISTRICT, title), None, key))

    created = _bulk(Staff, [staff for staff, _, _ in planned])
    assignments = []
    contacts = []
    for staff, school_index, key in planned:
        if key == "principal" and school_index is not None:
            build.principal_ids[school_index] = staff.pk
        elif key == ("district_login",):
            build.district_login_staff_id = staff.pk
        elif key is not None and key[0] == "support":
            build.co_teacher_ids.setdefault(key[1], []).append(staff.pk)
        elif key is not None:
            build.teacher_ids[key] = staff.pk
        if school_index is not None:
            years = rng.randint(0, 18)
            assignments.append(
                StaffSchoolAssignment(
                    staff=staff,
                    school_id=build.schools[school_index].pk,
                    position=staff.title,
                    begin_date=date(build.first_day.year - years, 8, 1),
                    **build.sourced("ssa", int(staff.source_id.split("-")[1])),
                )
            )
        local = _email_local(staff.first_name, staff.last_name)
        staff_number = int(staff.source_id.split("-")[1])
        for kind, label, value in (
            (ContactKind.EMAIL, "work", f"{local}{staff_number}@{STAFF_EMAIL_DOMAIN}"),
            (ContactKind.PHONE, "work", build.phone(rng)),
        ):
            contacts.append(
                ContactDetail(
                    staff=staff,
                    kind=kind,
                    label=label,
                    value=value,
                    is_primary=True,
                    **build.sourced("con", build.next_id("contact")),
                )
            )
    _bulk(StaffSchoolAssignment, assignments)
    _bulk(ContactDetail, contacts)
    teachers = sum(1 for staff in created if staff.kind == StaffKind.TEACHER)
    build.progress(f"{len(created)} staff ({teachers} teachers)")


def _email_local(first: str, last: str) -> str:
    keep = "abcdefghijklmnopqrstuvwxyz."
    return "".join(ch for ch in f"{first}.{last}".lower() if ch in keep)


def sections_step(build: DemoBuild) -> None:
    """Sections of the current school year, their teachers, and which slot sits in which."""
    rng = build.rng("sections")
    assert build.district is not None  # noqa: S101
    assert build.first_day is not None  # noqa: S101
    planned: list[Section] = []
    teachers_of: list[list[int]] = []
    # Per subject and slot, the index into `planned` (+1; 0 means none).
    local = [array("i", bytes(4 * build.students)) for _ in SUBJECTS]
    demo_school = next(s.index for s in build.schools if s.level == SchoolLevel.MIDDLE)
    build.demo_school = demo_school
    demo_teacher_section = -1

    def add(section: Section, teacher_id: int, slots: Sequence[int], subject_index: int) -> int:
        planned.append(section)
        teachers_of.append([teacher_id])
        marks = local[subject_index]
        for slot in slots:
            marks[slot] = len(planned)
        return len(planned) - 1

    for school in build.schools:
        cohorts = [c for c in build.cohorts if c.school == school.index]
        room = 100
        for cohort in cohorts:
            grade = GRADES[cohort.grade]
            if school.level == SchoolLevel.ELEMENTARY:
                start = cohort.first_slot
                for homeroom, size in enumerate(cohort.sizes):
                    room += 1
                    teacher_id = build.teacher_ids[
                        (school.index, "homeroom", cohort.grade, homeroom)
                    ]
                    for subject_index in range(ELEMENTARY_SUBJECTS):
                        key, subject, code = SUBJECTS[subject_index]
                        add(
                            Section(
                                school_id=school.pk,
                                course_id=build.course_ids[(cohort.grade, subject)],
                                session_id=build.school_year_id,
                                title=f"{course_title(cohort.grade, key)} (Room {room})",
                                section_code=f"{code}-{grade}-{school.number}-{homeroom + 1:02d}",
                                period=str(subject_index + 1),
                                subject=subject,
                                grade_levels=[grade],
                                room=str(room),
                                **build.sourced("sec", build.next_id("section")),
                            ),
                            teacher_id,
                            range(start, start + size),
                            subject_index,
                        )
                    start += size
                continue
            periods = LEVEL_PERIODS[school.level]
            grade_in_level = cohort.grade - LEVEL_GRADES[school.level][0]
            for subject_index, (key, subject, code) in enumerate(SUBJECTS):
                # Each subject mixes the grade afresh: classmates differ from class to class.
                order = list(range(cohort.first_slot, cohort.first_slot + cohort.students))
                sizes = list(cohort.sizes)
                if subject_index:
                    rng.shuffle(order)
                    rng.shuffle(sizes)
                period = 1 + (subject_index + grade_in_level) % periods
                start = 0
                for number, size in enumerate(sizes):
                    teacher_id = build.teacher_ids[(school.index, key, number)]
                    index = add(
                        Section(
                            school_id=school.pk,
                            course_id=build.course_ids[(cohort.grade, subject)],
                            session_id=build.school_year_id,
                            title=(
                                f"{course_title(cohort.grade, key)} · Period {period}"
                                f" · Section {number + 1:02d}"
                            ),
                            section_code=f"{code}-{grade}-{school.number}-{number + 1:02d}",
                            period=str(period),
                            subject=subject,
                            grade_levels=[grade],
                            room=str(200 + subject_index * 20 + number),
                            **build.sourced("sec", build.next_id("section")),
                        ),
                        teacher_id,
                        order[start : start + size],
                        subject_index,
                    )
                    if school.index == demo_school and key == "math" and number == 0:
                        if demo_teacher_section < 0:
                            demo_teacher_section = index
                            build.demo_teacher_slots = order[start : start + size]
                            build.demo_teacher_staff_id = teacher_id
                    start += size

    # Special education and English learner teachers co-teach some sections of their school.
    school_index_of = {school.pk: school.index for school in build.schools}
    for index, section in enumerate(planned):
        candidates = build.co_teacher_ids.get(school_index_of[section.school_id], [])
        if candidates and rng.random() < CO_TEACHER_RATE:
            teachers_of[index].append(rng.choice(candidates))

    created = _bulk(Section, planned)
    pk_of = array("q", [0] + [section.pk for section in created])
    build.slot_sections = [array("q", (pk_of[mark] for mark in marks)) for marks in local]
    assignments = []
    for section, teacher_ids in zip(created, teachers_of, strict=True):
        for position, staff_id in enumerate(teacher_ids):
            assignments.append(
                SectionAssignment(
                    staff_id=staff_id,
                    section=section,
                    is_primary=position == 0,
                    begin_date=build.first_day,
                    district=build.district,
                    source_system=DEMO_SOURCE,
                    source_id=f"sa-{int(section.source_id.split('-')[1]):06d}-{position}",
                )
            )
    _bulk(SectionAssignment, assignments)
    build.progress(f"{len(created)} sections, {len(assignments)} teaching assignments")


@dataclass
class _Person:
    first: str
    last: str


class _PeopleBatch:
    """Students and guardians of whole families, flushed together once enough accumulate."""

    def __init__(self, build: DemoBuild) -> None:
        self.build = build
        self.clear()

    def clear(self) -> None:
        self.students: list[Student] = []
        self.slots: list[int] = []
        self.guardians: list[Guardian] = []
        self.relationships: list[tuple[int, int, dict[str, Any]]] = []
        self.student_contacts: list[tuple[int, str, str, str, bool]] = []
        self.guardian_contacts: list[tuple[int, str, str, str, bool]] = []
        self.programs: list[tuple[int, str, str, date, date | None]] = []

    def flush(self) -> None:
        build = self.build
        if not self.students:
            return
        _bulk(Student, self.students)
        _bulk(Guardian, self.guardians)
        student_ids = [student.pk for student in self.students]
        guardian_ids = [guardian.pk for guardian in self.guardians]
        for slot, student_id in zip(self.slots, student_ids, strict=True):
            build.student_ids[slot] = student_id
        if build.demo_parent_slots and not build.demo_parent_guardian_id:
            build.demo_parent_guardian_id = guardian_ids[0]
        memberships = []
        enrollments = []
        for slot, student_id in zip(self.slots, student_ids, strict=True):
            memberships.append(
                StudentSchoolMembership(
                    student_id=student_id,
                    school_id=build.schools[build.slot_school[slot]].pk,
                    grade_level=GRADES[build.slot_grade[slot]],
                    begin_date=build.entry_day(slot),
                    **build.sourced("ssm", slot + 1),
                )
            )
            for subject_index, sections in enumerate(build.slot_sections):
                if sections[slot]:
                    enrollments.append(
                        Enrollment(
                            student_id=student_id,
                            section_id=sections[slot],
                            begin_date=build.entry_day(slot),
                            district=build.district,
                            source_system=DEMO_SOURCE,
                            source_id=f"enr-{slot + 1:06d}-{subject_index}",
                        )
                    )
        _bulk(StudentSchoolMembership, memberships)
        _bulk(Enrollment, enrollments)
        _bulk(
            GuardianRelationship,
            [
                GuardianRelationship(
                    guardian_id=guardian_ids[guardian],
                    student_id=student_ids[student],
                    district=build.district,
                    source_system=DEMO_SOURCE,
                    source_id=(
                        f"grel-{self.guardians[guardian].source_id[4:]}"
                        f"-{self.students[student].source_id[4:]}"
                    ),
                    **fields,
                )
                for guardian, student, fields in self.relationships
            ],
        )
        _bulk(
            ProgramParticipation,
            [
                ProgramParticipation(
                    student_id=student_ids[student],
                    program=program,
                    program_name=name,
                    begin_date=begin,
                    end_date=end,
                    **build.sourced("prg", build.next_id("program")),
                )
                for student, program, name, begin, end in self.programs
            ],
        )
        contacts = [
            ContactDetail(
                student_id=student_ids[owner],
                kind=kind,
                label=label,
                value=value,
                is_primary=primary,
                **build.sourced("con", build.next_id("contact")),
            )
            for owner, kind, label, value, primary in self.student_contacts
        ] + [
            ContactDetail(
                guardian_id=guardian_ids[owner],
                kind=kind,
                label=label,
                value=value,
                is_primary=primary,
                **build.sourced("con", build.next_id("contact")),
            )
            for owner, kind, label, value, primary in self.guardian_contacts
        ]
        _bulk(ContactDetail, contacts)
        self.clear()
        # With DEBUG on (the demo settings), Django keeps the last 9000 queries' SQL: for
        # thousand-row inserts that is hundreds of megabytes.
        reset_queries()


class _FamilyMaker:
    """Generates one family at a time (children, guardians, households) into a batch."""

    def __init__(self, build: DemoBuild) -> None:
        self.build = build
        self.rng = build.rng("families")
        self.fake = build.faker("families")
        self.programs_rng = build.rng("programs")
        self.preferences_rng = build.rng("guardian-preferences")

    def first_name(self, language: str, sex: str, *, child: bool) -> str:
        pool = NAME_POOLS.get(language)
        # Children of immigrant families often carry English first names.
        if pool and self.rng.random() < (0.55 if child else 0.9):
            return self.rng.choice(pool[1] if sex == Sex.FEMALE else pool[2])
        if sex == Sex.FEMALE:
            return self.fake.first_name_female()
        if sex == Sex.MALE:
            return self.fake.first_name_male()
        return self.fake.first_name_nonbinary()

    def last_name(self, language: str) -> str:
        pool = NAME_POOLS.get(language)
        if pool and self.rng.random() < 0.9:
            return self.rng.choice(pool[0])
        return self.fake.last_name()

    def email(self, first: str, last: str) -> str:
        suffix = str(self.rng.randrange(1, 1000)) if self.rng.random() < 0.7 else ""
        return f"{_email_local(first, last)}{suffix}@{self.rng.choice(EMAIL_DOMAINS)}"

    def make(self, batch: _PeopleBatch, slots: list[int], *, demo: bool = False) -> None:
        build, rng = self.build, self.rng
        language = _weighted(rng, HOME_LANGUAGES)
        races, hispanic = _ethnicity(rng, language)
        kind_name, frl_rate = "two_parents", 0.33
        if not demo:
            kind_name, frl_rate = rng.choices(
                [(name, frl) for name, _, frl in FAMILY_KINDS],
                weights=[weight for _, weight, _ in FAMILY_KINDS],
            )[0]
        surname = self.last_name(language)
        free_lunch = rng.random() < frl_rate
        households = [build.address(self.fake, rng)]

        # Guardians: (person, sex, relationship, household index or None, fields)
        adults: list[tuple[_Person, str, str, int | None, dict[str, Any]]] = []
        relation: str
        household: int | None

        def parent_fields(*, portal: bool, lives_with: bool = True) -> dict[str, Any]:
            return {
                "has_educational_rights": True,
                "custodial": True,
                "lives_with": lives_with,
                "emergency_contact": True,
                "portal_access": portal,
            }

        def adult(sex: str, last: str | None = None) -> _Person:
            return _Person(self.first_name(language, sex, child=False), last or surname)

        def maybe_own_surname() -> str | None:
            return self.last_name(language) if rng.random() < 0.3 else None

        if kind_name == "two_parents":
            mother_first = rng.random() < 0.6
            for sex in (Sex.FEMALE, Sex.MALE) if mother_first else (Sex.MALE, Sex.FEMALE):
                relation = Relationship.MOTHER if sex == Sex.FEMALE else Relationship.FATHER
                last = maybe_own_surname() if sex == Sex.FEMALE and not demo else None
                portal = demo or rng.random() < 0.85
                adults.append((adult(sex, last), sex, relation, 0, parent_fields(portal=portal)))
        elif kind_name == "single_parent":
            sex = Sex.FEMALE if rng.random() < 0.78 else Sex.MALE
            relation = Relationship.MOTHER if sex == Sex.FEMALE else Relationship.FATHER
            portal = rng.random() < 0.85
            adults.append((adult(sex), sex, relation, 0, parent_fields(portal=portal)))
        elif kind_name == "two_households":
            households.append(build.address(self.fake, rng))
            for household, sex in enumerate((Sex.FEMALE, Sex.MALE)):
                relation = Relationship.MOTHER if sex == Sex.FEMALE else Relationship.FATHER
                last = maybe_own_surname() if sex == Sex.FEMALE else None
                portal = rng.random() < 0.85
                adults.append(
                    (adult(sex, last), sex, relation, household, parent_fields(portal=portal))
                )
        elif kind_name == "restricted_parent":
            households.append(build.address(self.fake, rng))
            custodial_sex = Sex.FEMALE if rng.random() < 0.7 else Sex.MALE
            other_sex = Sex.MALE if custodial_sex == Sex.FEMALE else Sex.FEMALE
            for sex, household in ((custodial_sex, 0), (other_sex, 1)):
                relation = Relationship.MOTHER if sex == Sex.FEMALE else Relationship.FATHER
                if household == 0:
                    fields = parent_fields(portal=rng.random() < 0.85)
                else:
                    # A court order: no contact, no rights, never portal access.
                    fields = {
                        "has_educational_rights": False,
                        "custodial": False,
                        "lives_with": False,
                        "emergency_contact": False,
                        "portal_access": False,
                        "contact_restricted": True,
                    }
                adults.append((adult(sex, maybe_own_surname()), sex, relation, household, fields))
        else:  # kin: grandparents or another relative hold guardianship
            sex = Sex.FEMALE if rng.random() < 0.75 else Sex.MALE
            adults.append(
                (
                    adult(sex),
                    sex,
                    Relationship.GUARDIAN,
                    0,
                    parent_fields(portal=rng.random() < 0.7),
                )
            )
            if rng.random() < 0.4:
                other = Sex.MALE if sex == Sex.FEMALE else Sex.FEMALE
                fields = parent_fields(portal=rng.random() < 0.5)
                adults.append((adult(other), other, Relationship.GUARDIAN, 0, fields))
        if not demo and rng.random() < 0.25:
            sex = Sex.FEMALE if rng.random() < 0.6 else Sex.MALE
            relation = Relationship.OTHER_RELATIVE if rng.random() < 0.7 else Relationship.OTHER
            last = surname if relation == Relationship.OTHER_RELATIVE else self.last_name(language)
            adults.append(
                (
                    _Person(self.first_name(language, sex, child=False), last),
                    sex,
                    relation,
                    None,
                    {"emergency_contact": True},
                )
            )

        # Children: the family's name and language; they live in both homes only when the
        # parents share custody (never with a restricted parent).
        homes = households if kind_name == "two_households" else households[:1]
        first_child = len(batch.students)
        birth_by_grade: dict[int, date | None] = {}
        for slot in slots:
            student = self.child(slot, surname, language, races, hispanic)
            # Siblings in one grade are twins.
            grade = build.slot_grade[slot]
            student.birth_date = birth_by_grade.setdefault(grade, student.birth_date)
            batch.slots.append(slot)
            batch.students.append(student)
            self.child_contacts(batch, slot, len(batch.students) - 1, homes)
            self.child_programs(batch, slot, len(batch.students) - 1, language, free_lunch)

        priority = 0
        for person, _sex, relation, household, fields in adults:
            number = build.next_id("guardian")
            batch.guardians.append(
                Guardian(
                    first_name=person.first,
                    last_name=person.last,
                    **build.sourced("gdn", number),
                )
            )
            guardian = len(batch.guardians) - 1
            self.preferences(batch.guardians[guardian], language)
            restricted = fields.get("contact_restricted", False)
            if not restricted:
                priority += 1
            for child in range(first_child, len(batch.students)):
                batch.relationships.append(
                    (
                        guardian,
                        child,
                        {
                            "relationship": relation,
                            "contact_priority": None if restricted else priority,
                            **fields,
                        },
                    )
                )
            contacts = batch.guardian_contacts
            if household is not None:
                contacts.append(
                    (guardian, ContactKind.ADDRESS, "home", households[household], True)
                )
            contacts.append((guardian, ContactKind.PHONE, "mobile", build.phone(rng), True))
            if household is not None and rng.random() < 0.85:
                email = self.email(person.first, person.last)
                contacts.append((guardian, ContactKind.EMAIL, "personal", email, True))
            else:
                batch.guardians[guardian].contact_method = ContactMethod.TEXT  # no email
            if household is not None and rng.random() < 0.3:
                contacts.append((guardian, ContactKind.PHONE, "work", build.phone(rng), False))

    def preferences(self, guardian: Guardian, family_language: str) -> None:
        """The language a guardian reads (the family's; now and then English, in a bilingual
        family) and how and when they like to be contacted, from a stream of their own."""
        rng = self.preferences_rng
        bilingual = family_language != "English" and rng.random() < 0.08
        guardian.language = "English" if bilingual else family_language
        guardian.contact_method = ContactMethod.TEXT if rng.random() < 0.4 else ContactMethod.EMAIL
        guardian.contact_time = _weighted(
            rng,
            [
                (ContactTime.ANY, 45.0),
                (ContactTime.EVENING, 25.0),
                (ContactTime.MORNING, 10.0),
                (ContactTime.SCHOOL_DAY, 10.0),
                (ContactTime.WEEKEND, 10.0),
            ],
        )

    def child(
        self, slot: int, surname: str, language: str, races: list[str], hispanic: bool | None
    ) -> Student:
        build, rng = self.build, self.rng
        assert build.first_day is not None  # noqa: S101
        sex = _weighted(
            rng,
            [(Sex.FEMALE, 49.0), (Sex.MALE, 49.5), (Sex.NONBINARY, 0.5), (Sex.UNSPECIFIED, 1.0)],
        )
        name_sex = sex if sex in (Sex.FEMALE, Sex.MALE) else rng.choice([Sex.FEMALE, Sex.MALE])
        grade = build.slot_grade[slot]
        # Five years old on September 1 for kindergarten; some repeated a year.
        age = 5 + grade + (1 if rng.random() < 0.02 else 0)
        cutoff = date(build.first_day.year - age, 9, 1)
        birth = cutoff - timedelta(days=rng.randrange(365))
        middle = self.first_name(language, name_sex, child=True) if rng.random() < 0.7 else ""
        return Student(
            first_name=self.first_name(language, name_sex, child=True),
            middle_name=middle,
            last_name=surname,
            student_number=f"{2000000 + slot + 1}",
            state_id=f"{build.state}{rng.randrange(10**9, 10**10)}",
            birth_date=birth,
            sex=sex,
            home_language=language,
            races=races,
            hispanic_or_latino=hispanic,
            **build.sourced("stu", slot + 1),
        )

    def child_contacts(
        self, batch: _PeopleBatch, slot: int, child: int, households: list[str]
    ) -> None:
        build, rng = self.build, self.rng
        batch.student_contacts.append((child, ContactKind.ADDRESS, "home", households[0], True))
        if len(households) > 1:
            batch.student_contacts.append(
                (child, ContactKind.ADDRESS, "second home", households[1], False)
            )
        grade = build.slot_grade[slot]
        student = batch.students[child]
        if grade >= 3:
            local = _email_local(student.first_name, student.last_name)
            email = f"{local}{slot + 1}@{STUDENT_EMAIL_DOMAIN}"
            batch.student_contacts.append((child, ContactKind.EMAIL, "school", email, True))
        if grade >= 9 and rng.random() < 0.6:
            batch.student_contacts.append(
                (child, ContactKind.PHONE, "mobile", build.phone(rng), True)
            )

    def child_programs(
        self, batch: _PeopleBatch, slot: int, child: int, language: str, free_lunch: bool
    ) -> None:
        build, rng = self.build, self.programs_rng
        assert build.first_day is not None  # noqa: S101
        assert build.school_year_end is not None  # noqa: S101
        today = build.today
        grade = build.slot_grade[slot]
        years_in_school = grade + 1

        def begun(max_years: float) -> date:
            return today - timedelta(days=rng.randint(20, max(21, int(365 * max_years))))

        programs = batch.programs
        roll = rng.random()
        if roll < 0.13:
            category = _weighted(rng, IEP_CATEGORIES)
            programs.append((child, Program.IEP, f"IEP: {category}", begun(years_in_school), None))
        elif roll < 0.16:
            programs.append((child, Program.SECTION_504, "504 plan", begun(years_in_school), None))
        elif roll < 0.17 and grade >= 2:
            # Exited special education services.
            start = begun(years_in_school)
            end = start + timedelta(days=rng.randint(200, 700))
            if end < today:
                category = _weighted(rng, IEP_CATEGORIES)
                programs.append((child, Program.IEP, f"IEP: {category}", start, end))
        if language != "English":
            roll = rng.random()
            start = begun(years_in_school)
            if roll < 0.43:
                programs.append((child, Program.ENGLISH_LEARNER, "English learner", start, None))
            elif roll < 0.63 and grade >= 2:
                # Reclassified fluent: a former English learner.
                end = min(
                    today - timedelta(days=30), start + timedelta(days=rng.randint(365, 1500))
                )
                if end > start:
                    programs.append((child, Program.ENGLISH_LEARNER, "English learner", start, end))
        elif rng.random() < 0.005:
            programs.append((child, Program.ENGLISH_LEARNER, "English learner", begun(1), None))
        if free_lunch:
            programs.append(
                (
                    child,
                    Program.FREE_REDUCED_LUNCH,
                    rng.choice(["Free lunch", "Free lunch", "Reduced-price lunch"]),
                    build.first_day,
                    build.school_year_end,
                )
            )
        if grade >= 2 and rng.random() < 0.083:
            programs.append((child, Program.GIFTED, "Gifted and talented", begun(grade - 1), None))


def _ethnicity(rng: random.Random, language: str) -> tuple[list[str], bool | None]:
    options = ETHNICITY.get(language, ETHNICITY["English"])
    races, hispanic, _ = rng.choices(options, weights=[weight for *_, weight in options])[0]
    return list(races), hispanic


def families_step(build: DemoBuild) -> None:
    """Students with their families: guardians, households, contacts, programs, memberships and
    enrollments, written every BATCH_SIZE students."""
    rng = build.rng("family-slots")
    build.student_ids = array("q", bytes(8 * build.students))
    _entry_days_draw(build)
    maker = _FamilyMaker(build)
    batch = _PeopleBatch(build)

    # The demo parent's family comes first: a child in the demo teacher's class and a younger
    # sibling at an elementary school.
    elementary = [c for c in build.cohorts if build.schools[c.school].level == "elementary"]
    sibling_cohort = rng.choice(elementary)
    sibling = sibling_cohort.first_slot + rng.randrange(sibling_cohort.students)
    demo_slots = [rng.choice(build.demo_teacher_slots), sibling]
    build.demo_parent_slots = demo_slots
    for slot in demo_slots:  # the demo parent's children have been there all year
        build.slot_entry[slot] = 0
    maker.make(batch, demo_slots, demo=True)

    taken = set(demo_slots)
    order = [slot for slot in range(build.students) if slot not in taken]
    rng.shuffle(order)
    position = 0
    while position < len(order):
        size = min(_weighted(rng, CHILDREN_PER_FAMILY), len(order) - position)
        _siblings_in_distinct_grades(build, order, position, size, rng)
        maker.make(batch, order[position : position + size])
        position += size
        if len(batch.students) >= BATCH_SIZE:
            batch.flush()
            build.progress(f"{position + len(demo_slots)}/{build.students} students")
    batch.flush()
    build.progress(f"{build.students}/{build.students} students with families")


MID_YEAR_ENTRY_RATE = 0.05


def _entry_days_draw(build: DemoBuild) -> None:
    """About 5% of students transfer in after the first day, on a school day at least two weeks
    before today (from their own stream, so the rest of the district does not change)."""
    assert build.first_day is not None  # noqa: S101 - the district step runs first
    rng = build.rng("entry")
    latest = (min(build.today, build.school_year_end or build.today) - build.first_day).days - 14
    build.slot_entry = array("H", bytes(2 * build.students))
    if latest < 10:
        return
    for slot in range(build.students):
        if rng.random() < MID_YEAR_ENTRY_RATE:
            day = build.first_day + timedelta(days=rng.randint(7, latest))
            build.slot_entry[slot] = (_weekday_on_or_after(day) - build.first_day).days


def _siblings_in_distinct_grades(
    build: DemoBuild, order: list[int], start: int, size: int, rng: random.Random
) -> None:
    """Swap later slots in so that siblings sit in different grades (twins stay, now and then)."""
    grades: set[int] = set()
    for index in range(start, start + size):
        grade = build.slot_grade[order[index]]
        if grade in grades and rng.random() > 0.05:
            for later in range(start + size, min(len(order), start + size + 60)):
                if build.slot_grade[order[later]] not in grades:
                    order[index], order[later] = order[later], order[index]
                    grade = build.slot_grade[order[index]]
                    break
        grades.add(grade)


def logins_step(build: DemoBuild) -> None:
    """The four demo logins and their roles, then derived memberships and object permissions."""
    school = School.objects.get(pk=build.schools[build.demo_school].pk)
    # The demo teacher's school publishes their work phone to families (the portal's teachers
    # page shows it); every other phone stays unpublished, as is the default.
    Staff.objects.filter(pk=build.demo_teacher_staff_id).update(publish_phone_to_families=True)
    teacher = staff_login_provision(
        staff=Staff.objects.get(pk=build.demo_teacher_staff_id),
        email=DEMO_LOGINS["teacher"],
        password=DEMO_PASSWORD,
    )
    principal = staff_login_provision(
        staff=Staff.objects.get(pk=build.principal_ids[build.demo_school]),
        email=DEMO_LOGINS["principal"],
        password=DEMO_PASSWORD,
    )
    role_grant(user=principal, role=Role.PRINCIPAL, school=school)
    district_user = staff_login_provision(
        staff=Staff.objects.get(pk=build.district_login_staff_id),
        email=DEMO_LOGINS["district"],
        password=DEMO_PASSWORD,
    )
    role_grant(user=district_user, role=Role.DISTRICT_STAFF, district=build.district)
    # The district login is also the district's privacy officer, who publishes the year's notice.
    role_grant(user=district_user, role=Role.PRIVACY_OFFICER, district=build.district)
    assert build.district is not None  # noqa: S101
    demo_notice_publish(district=build.district, privacy_officer=district_user, today=build.today)
    parent = _guardian_login(
        Guardian.objects.get(pk=build.demo_parent_guardian_id), DEMO_LOGINS["parent"]
    )
    build.login_user_ids = {
        "teacher": teacher.pk,
        "principal": principal.pk,
        "district": district_user.pk,
        "parent": parent.pk,
    }
    derived_access_sync()
    build.progress("demo logins ready")


def _guardian_login(guardian: Guardian, email: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email=email, password=DEMO_PASSWORD, full_name=guardian.display_name
        )
    else:
        user.set_password(DEMO_PASSWORD)
    user.guardian_record = guardian
    user.full_name = guardian.display_name
    user.is_active = True
    user.save(update_fields=["password", "guardian_record", "full_name", "is_active"])
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return user


SEED_STEPS: list[SeedStep] = [
    SeedStep("district", district_step),
    SeedStep("schools", schools_step),
    SeedStep("staff", staff_step),
    SeedStep("sections", sections_step),
    SeedStep("families", families_step),
    SeedStep("logins", logins_step),
]


def seed_step_register(
    name: str, run: Callable[[DemoBuild], None], *, before: str | None = "logins"
) -> None:
    """Add a step (assessments, scores, mastery) before another; by default before the logins,
    so that derived access is computed over everything. `before=None` adds it at the end, for a
    step that writes as a demo login (lesson plans). Registering a name twice replaces it."""
    existing = [index for index, step in enumerate(SEED_STEPS) if step.name == name]
    if existing:
        SEED_STEPS[existing[0]] = SeedStep(name, run)
        return
    if before is None:
        SEED_STEPS.append(SeedStep(name, run))
        return
    index = next(i for i, step in enumerate(SEED_STEPS) if step.name == before)
    SEED_STEPS.insert(index, SeedStep(name, run))


# --- Entry points ---------------------------------------------------------------------------


def demo_district_get() -> District | None:
    return District.objects.filter(
        source_system=DEMO_SOURCE, source_id=DEMO_DISTRICT_SOURCE_ID
    ).first()


@transaction.atomic
def build_demo_district(
    *,
    students: int = DEFAULT_STUDENTS,
    seed: int = DEFAULT_SEED,
    stdout: Writer | None = None,
    stderr: Writer | None = None,
    steps: Sequence[SeedStep] | None = None,
    today: date | None = None,
) -> DemoDistrict:
    """Build the demo district (which must not exist yet): the same seed and the same day, the
    same district. `today` picks the school year (the one containing it) and dates programs."""
    if students < MIN_STUDENTS:
        raise ValueError(f"The demo district needs at least {MIN_STUDENTS} students.")
    if demo_district_get() is not None:
        raise ValueError("The demo district already exists; delete it first.")
    build = DemoBuild(
        students=students,
        seed=seed,
        today=today or timezone.localdate(),
        stdout=stdout,
        stderr=stderr,
    )
    for step in SEED_STEPS if steps is None else steps:
        step.run(build)
    return demo_district_result(build)


def demo_district_result(build: DemoBuild) -> DemoDistrict:
    assert build.district is not None  # noqa: S101
    school = build.schools[build.demo_school]
    teacher = Staff.objects.get(pk=build.demo_teacher_staff_id)
    principal = Staff.objects.get(pk=build.principal_ids[build.demo_school])
    district_staff = Staff.objects.get(pk=build.district_login_staff_id)
    guardian = Guardian.objects.get(pk=build.demo_parent_guardian_id)
    children_by_pk = Student.objects.in_bulk(
        [build.student_ids[s] for s in build.demo_parent_slots]
    )
    children = [children_by_pk[build.student_ids[slot]] for slot in build.demo_parent_slots]
    section_count = SectionAssignment.objects.filter(staff=teacher).count()
    grades = {
        build.student_ids[slot]: grade_label(GRADES[build.slot_grade[slot]])
        for slot in build.demo_parent_slots
    }
    children_text = " and ".join(f"{child.display_name} ({grades[child.pk]})" for child in children)
    return DemoDistrict(
        district=build.district,
        school_year_id=build.school_year_id,
        school_ids=[plan.pk for plan in build.schools],
        demo_school_id=school.pk,
        teacher_staff_id=teacher.pk,
        principal_staff_id=principal.pk,
        district_staff_id=district_staff.pk,
        parent_guardian_id=guardian.pk,
        parent_student_ids=[child.pk for child in children],
        login_user_ids=dict(build.login_user_ids),
        logins=[
            DemoLogin(
                DEMO_LOGINS["teacher"],
                f"{teacher.display_name}, {teacher.title.lower()} at {school.name} "
                f"({section_count} sections)",
            ),
            DemoLogin(
                DEMO_LOGINS["principal"], f"{principal.display_name}, principal of {school.name}"
            ),
            DemoLogin(DEMO_LOGINS["parent"], f"{guardian.display_name}, parent of {children_text}"),
            DemoLogin(
                DEMO_LOGINS["district"],
                f"{district_staff.display_name}, {district_staff.title} ({build.district.name})",
            ),
        ],
    )


def tables_analyze(models_: Sequence[type[models.Model]]) -> list[str]:
    """ANALYZE these models' tables: a planner that still believes them empty (their rows not
    committed yet, or not analysed since) picks nested loops over hundreds of thousands of rows.
    Returns the tables analysed."""
    from django.db import connection

    tables = sorted({model._meta.db_table for model in models_})
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return tables


def demo_tables_analyze(*, stderr: Writer | None = None) -> list[str]:
    """Refresh the statistics of every table the seed filled, after it commits."""
    started = time.monotonic()
    tables = tables_analyze(
        [
            model
            for app in ("students", "assessments", "accounts", "guardian", "rollups")
            for model in apps.get_app_config(app).get_models(include_auto_created=True)
            if not model._meta.proxy and model._meta.managed
        ]
    )
    if stderr is not None:
        elapsed = time.monotonic() - started
        stderr.write(f"seed_demo: analysed {len(tables)} tables in {elapsed:.1f}s\n")
    return tables


def _district_foreign_keys() -> list[tuple[type[models.Model], str]]:
    """Every model with a foreign key to District (other apps' included), and the field."""
    found = []
    for model in apps.get_models():
        if model is District:
            continue
        for model_field in model._meta.concrete_fields:
            if model_field.is_relation and model_field.related_model is District:
                if not getattr(model_field, "db_constraint", True):
                    continue  # a trail that outlives the district (rights' event log)
                found.append((model, model_field.name))
    return found


def _delete_in_batches(queryset: models.QuerySet, batch_size: int = BATCH_SIZE) -> int:
    ids = list(queryset.values_list("pk", flat=True))
    model = queryset.model
    for start in range(0, len(ids), batch_size):
        model._default_manager.filter(pk__in=ids[start : start + batch_size]).delete()
    return len(ids)


def _delete_leaves_first(queryset: models.QuerySet) -> None:
    """Delete rows of a model that may point at itself (sessions, standards): leaves first."""
    if not queryset.exists():
        return  # gone with the people already, or never there
    model = queryset.model
    self_keys = [
        f.attname for f in model._meta.concrete_fields if f.is_relation and f.related_model is model
    ]
    if not self_keys:
        queryset.delete()
        return
    while queryset.exists():
        leaves = queryset
        for attname in self_keys:
            referenced = model._default_manager.filter(**{f"{attname}__isnull": False})
            leaves = leaves.exclude(pk__in=referenced.values(attname))
        if not leaves.exists():
            raise ProtectedError(f"{model.__name__} rows refer to each other in a cycle.", set())
        leaves.delete()


@transaction.atomic
def demo_district_delete(*, stderr: Writer | None = None) -> bool:
    """Delete the demo district and everything in it, in any app, and the demo logins.

    The access log stays: it is append-only and holds no database constraint to students.
    """
    district = demo_district_get()
    if district is None:
        return False
    started = time.monotonic()

    def progress(message: str) -> None:
        if stderr is not None:
            stderr.write(f"seed_demo [{time.monotonic() - started:6.1f}s] {message}\n")

    # Lesson materials' files live in the storage, not the database: they go once the deletion
    # commits (a rollback keeps the rows and their files together).
    stored = list(
        PlanMaterial.objects.filter(plan__section__district=district)
        .exclude(file="")
        .values_list("file", flat=True)
    )
    if stored:

        def files_delete() -> None:
            for name in stored:
                default_storage.delete(name)

        transaction.on_commit(files_delete)
        progress(f"{len(stored)} lesson-material files to remove")
    User.objects.filter(email__in=DEMO_LOGINS.values()).delete()
    # People and sections first, in batches: each cascades to its rows in every app.
    for people_model in (Student, Guardian, Staff, Section):
        deleted = _delete_in_batches(people_model.objects.filter(district=district))
        progress(f"deleted {deleted} {people_model._meta.verbose_name_plural}")
    pending = _district_foreign_keys()
    while pending:
        still_pending: list[tuple[type[models.Model], str]] = []
        for model, field_name in pending:
            try:
                _delete_leaves_first(model._default_manager.filter(**{field_name: district}))
            except (ProtectedError, RestrictedError):
                still_pending.append((model, field_name))
        if len(still_pending) == len(pending):
            names = ", ".join(model.__name__ for model, _ in still_pending)
            raise ProtectedError(f"Could not delete the demo district's {names}.", set())
        pending = still_pending
    district.delete()
    progress("deleted the previous demo district")
    return True
