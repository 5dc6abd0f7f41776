"""What the teacher's pages share: figure serialization, CSV responses, and the placeholder ids that
URL templates carry for the page's script to fill."""

import orjson
from django.http import HttpResponse, HttpResponseBadRequest
from django.urls import reverse

# Ids no row has, reversed into URLs that the page's script completes per cell.
STUDENT_PLACEHOLDER = 987_654_321


STANDARD_PLACEHOLDER = 987_654_322
SCHOOL_PLACEHOLDER = 987_654_323
PLAN_PLACEHOLDER = 987_654_324


def serialized(figure: dict) -> bytes:
    return orjson.dumps(figure)


def bad_parameters(problems: list[str]) -> HttpResponse:
    """A 400 that names each parameter it could not use ('as_of: ...'), in plain text."""
    return HttpResponseBadRequest(
        "Bad parameters:\n" + "\n".join(problems) + "\n", content_type="text/plain; charset=utf-8"
    )


def csv_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def student_url_template() -> str:
    """A student's profile as the section page links it: on the assessments tab, since a
    teacher comes from the class's levels to see this student's (the record is a tab away)."""
    url = reverse("students:student_detail", kwargs={"pk": STUDENT_PLACEHOLDER})
    return url.replace(str(STUDENT_PLACEHOLDER), "{student}") + "#assessments"


def school_url_template(query: str) -> str:
    """A school's report with the district page's filters, its id left as {key} for the
    chart's bars to fill in."""
    url = reverse("students:school_detail", kwargs={"pk": SCHOOL_PLACEHOLDER})
    return url.replace(str(SCHOOL_PLACEHOLDER), "{key}") + f"?{query}"
