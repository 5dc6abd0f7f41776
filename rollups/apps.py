from django.apps import AppConfig


class RollupsConfig(AppConfig):
    """Counts of mastery by school, grade, subgroup, standard and month, and by section, kept up
    to date from the estimates and the records (layer 2; read by the school and district pages)."""

    name = "rollups"
    verbose_name = "Rollups"

    def ready(self) -> None:
        from rollups import receivers  # noqa: F401  (connects the signal receivers)
        from students.inventory import register_records

        for label in (
            "rollups.SchoolStandardMonth",
            "rollups.SchoolSubjectMonth",
            "rollups.SectionStandardMonth",
            "rollups.SchoolEngagementDay",
        ):
            register_records(
                label,
                category="rollups",
                personal=False,
                note="Counts of groups of students (small groups hidden), never one student's.",
            )
        register_records(
            "rollups.RollupRebuild",
            category="rollups",
            personal=False,
            note="A recount of a district's rollups: when, and how many rows differed.",
        )
        # A work queue, not a record: a student's id and a date, deleted at the next flush
        # (minutes); it says nothing of the student that the other categories do not.
        register_records(
            "rollups.RollupPending",
            category="rollups",
            personal=False,
            note="A work queue (which students' counts wait for a recount), emptied in minutes.",
        )
