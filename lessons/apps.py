from django.apps import AppConfig


class LessonsConfig(AppConfig):
    """Lesson plans built on the mastery estimates (issue 22): plans per section and day, groups
    by need, materials, templates, exit tickets. A feature: it reads the records and estimates,
    asks accounts.access who may read or edit a plan, and writes through lessons.services."""

    name = "lessons"

    def ready(self) -> None:
        register_inventory()


def register_inventory() -> None:
    """What each of the app's models holds about a student (students.inventory)."""
    from students.inventory import register_records

    # "lessons" is one of the registry's own categories (students.inventory), translated there.
    register_records(
        "lessons.PlanGroupMember",
        category="lessons",
        personal=True,
        student_lookup="student",
        replace=True,
    )
    not_personal = {
        "lessons.LessonPlan": "A section's lesson; its groups' students are under lessons.",
        "lessons.PlanGroup": "A group's name and kind; its students are under lessons.",
        "lessons.GroupActivity": "What a group does in a lesson.",
        "lessons.PlanMaterial": "A lesson's files and links.",
        "lessons.PlanTemplate": "A teacher's personal lesson template.",
        "lessons.StandardPrerequisite": "Which standard builds on which.",
    }
    for label, note in not_personal.items():
        register_records(label, category="lessons", personal=False, note=note, replace=True)
