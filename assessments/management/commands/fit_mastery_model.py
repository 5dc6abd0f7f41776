import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.services import mastery_model_fit
from students.models import District


class Command(BaseCommand):
    help = "Fit the learned mastery model on each district's own scores and store its parameters."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--district", type=int, help="One district (default: every district).")
        parser.add_argument("--json", action="store_true", help="One JSON line on stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        districts = District.objects.filter(is_active=True)
        if options["district"] is not None:
            districts = districts.filter(pk=options["district"])
            if not districts.exists():
                raise CommandError(f"No active district with id {options['district']}.")
        results = {}
        for district in districts:
            sys.stderr.write(f"fitting {district.name}…\n")
            result = mastery_model_fit(district_id=district.pk)
            results[str(district.pk)] = {
                "fit": result.fit_id,
                "responses": result.responses,
                "students": result.students,
                "holdout_auc": result.holdout_auc,
                "holdout_rmse": result.holdout_rmse,
            }
            if result.fit_id is None:
                sys.stderr.write(f"  too little evidence ({result.responses} scores): not fitted\n")
        if options["json"]:
            self.stdout.write(json.dumps({"districts": results}, separators=(",", ":")))
        else:
            for district_id, row in results.items():
                self.stdout.write(f"district {district_id}: {row}")
