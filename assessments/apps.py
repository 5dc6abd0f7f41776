from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "assessments"

    def ready(self) -> None:
        from assessments import models
        from students.inventory import register_count

        register_count("learning_standards", lambda: models.Standard.objects.filter(is_active=True))
        register_count("assessments", lambda: models.Assessment.objects.filter(is_active=True))
        register_count(
            "student_assessments", lambda: models.StudentAssessment.objects.filter(is_active=True)
        )
        # Every score row: whole-assessment, item and objective scores.
        register_count("scores", lambda: models.Score.objects.all())
        register_count("mastery_estimates", lambda: models.MasteryEstimate.objects.all())

        from assessments.demo import seed_assessments
        from students.demo import seed_step_register

        seed_step_register("assessments", seed_assessments)
