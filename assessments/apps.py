from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "assessments"

    def ready(self) -> None:
        from assessments import models
        from students.inventory import register_count, register_records

        # What the district teaches and how it measures, and the fits of the learned model
        # (parameters over many students), hold nothing about one student; results and
        # mastery do.
        for label in (
            "assessments.Standard",
            "assessments.MasteryPolicy",
            "assessments.Assessment",
            "assessments.AssessmentItem",
            "assessments.PerformanceLevel",
            "assessments.MasteryModelFit",
        ):
            register_records(
                label,
                category="curriculum",
                personal=False,
                note="About what is taught and measured, not about a student.",
            )
        for label, category in (
            ("assessments.StudentAssessment", "assessments"),
            ("assessments.Score", "assessments"),
            ("assessments.MasteryEstimate", "mastery"),
            ("assessments.MasteryEstimateHistory", "mastery"),
            ("assessments.MasteryOverride", "mastery"),
            ("assessments.MasteryEvidence", "mastery"),
            ("assessments.LearnerState", "mastery"),
        ):
            register_records(label, category=category, personal=True, student_lookup="student")

        # Learning objectives and gradebook entries share these tables but are counted apart.
        objective = models.StandardKind.OBJECTIVE
        gradebook = models.AssessmentKind.GRADEBOOK
        register_count(
            "learning_standards",
            lambda: models.Standard.objects.filter(is_active=True).exclude(kind=objective),
        )
        register_count(
            "learning_objectives",
            lambda: models.Standard.objects.filter(is_active=True, kind=objective),
        )
        register_count(
            "assessments",
            lambda: models.Assessment.objects.filter(is_active=True).exclude(kind=gradebook),
        )
        register_count(
            "gradebook_entries",
            lambda: models.Assessment.objects.filter(is_active=True, kind=gradebook),
        )
        register_count(
            "student_assessments",
            lambda: models.StudentAssessment.objects.filter(is_active=True).exclude(
                assessment__kind=gradebook
            ),
        )
        register_count(
            "student_gradebook_entries",
            lambda: models.StudentAssessment.objects.filter(
                is_active=True, assessment__kind=gradebook
            ),
        )
        register_count(
            "assessment_items",
            lambda: models.AssessmentItem.objects.filter(is_active=True, kind=models.ItemKind.ITEM),
        )
        register_count(
            "objective_assessments",
            lambda: models.AssessmentItem.objects.filter(
                is_active=True, kind=models.ItemKind.OBJECTIVE
            ),
        )
        register_count("performance_levels", lambda: models.PerformanceLevel.objects.all())
        # Every score row: whole-assessment, item and objective scores.
        register_count("scores", lambda: models.Score.objects.all())
        register_count("mastery_estimates", lambda: models.MasteryEstimate.objects.all())
        register_count(
            "mastery_history_points", lambda: models.MasteryEstimateHistory.objects.all()
        )
