"""manage.py evaluate_mastery --train TRAIN.tsv --test TEST.tsv [--json] [--methods a,b]

Fits the learned mastery models on TRAIN, predicts every TEST response from the same student's
earlier ones, and prints AUC, RMSE and timings per method. The work is in assessments.evaluation.
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.evaluation import ALL_METHODS, run


class Command(BaseCommand):
    help = "Compare mastery estimators (Canvas methods and learned models) on response logs."
    # Reads files only: no database, so no system checks to wait for.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--train", required=True, help="training log (TSV)")
        parser.add_argument("--test", required=True, help="test log (TSV), students not in train")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print one JSON line instead"
        )
        parser.add_argument(
            "--methods", default="", help="comma-separated subset of: " + ", ".join(ALL_METHODS)
        )

    def handle(self, *args, train: str, test: str, as_json: bool, methods: str, **options) -> None:
        self.stderr.style_func = None  # progress lines, not errors: no red
        try:
            run(
                train_path=train,
                test_path=test,
                as_json=as_json,
                methods=[name for name in methods.split(",") if name] or None,
                stdout=self.stdout,
                stderr=self.stderr,
            )
        except (OSError, ValueError) as error:
            raise CommandError(str(error)) from error
