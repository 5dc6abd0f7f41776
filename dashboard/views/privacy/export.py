"""A student's access log and disclosure records for the privacy office (a family's request, a
subpoena), as JSON and as CSV: streamed a row at a time from two chunked reads, so that memory
and queries stay the same whatever the number of rows (a student may have 50,000 reads)."""

import csv
import json
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.access import PrivacyOfficeStudentAccess, SignedInRequest, student_for_privacy_officer
from dashboard.tables import spreadsheet_safe
from privacy.services import log_shown
from rights.selectors import (
    EXPORT_CSV_COLUMNS,
    access_log_rows_of_student,
    disclosure_rows_of_student,
    export_csv_rows_of_student,
)
from students.models import Student


class _Line:
    """A file-like object whose write returns what it was given (csv.writer writes a row)."""

    def write(self, text: str) -> str:
        return text


def _attachment(chunks: Iterator[str], content_type: str, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # The privacy middleware adds the same to every signed-in response; said here as well,
    # since this is the file a family's most private log leaves in.
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _student_access(request: SignedInRequest, pk: int, what: str) -> PrivacyOfficeStudentAccess:
    access = student_for_privacy_officer(request.user, pk)
    log_shown(request, access, what=what, students=[access.student])
    return access


def _filename(student: Student, extension: str) -> str:
    day = f"{timezone.localdate():%Y-%m-%d}"
    return f"student-{student.pk}-access-log-and-disclosures-{day}.{extension}"


def _json_chunks(student: Student) -> Iterator[str]:
    """The export as one JSON object, written a row at a time."""
    head = {
        "student": {
            "id": student.pk,
            "name": student.display_name,
            "legal_name": student.legal_name,
            "student_number": student.student_number,
        },
        "generated_at": timezone.now().isoformat(),
    }
    yield json.dumps(head, cls=DjangoJSONEncoder, ensure_ascii=False)[:-1]
    for key, rows in (
        ("access_log", access_log_rows_of_student(student)),
        ("disclosures", disclosure_rows_of_student(student)),
    ):
        yield f', "{key}": ['
        for index, row in enumerate(rows):
            prefix = ",\n" if index else "\n"
            yield prefix + json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False)
        yield "]"
    yield "}\n"


@login_required
@require_GET
def privacy_student_export_json(request: SignedInRequest, pk: int) -> StreamingHttpResponse:
    """The student's access log and disclosure records, oldest first, as JSON (a download)."""
    access = _student_access(request, pk, "privacy office: access log and disclosures (JSON)")
    return _attachment(
        _json_chunks(access.student),
        "application/json; charset=utf-8",
        _filename(access.student, "json"),
    )


def _csv_chunks(student: Student) -> Iterator[str]:
    """One table, a row per read or disclosure by time; no cell a spreadsheet runs."""
    writer = csv.writer(_Line())
    yield writer.writerow(EXPORT_CSV_COLUMNS)
    for row in export_csv_rows_of_student(student):
        yield writer.writerow([spreadsheet_safe(cell) for cell in row])


@login_required
@require_GET
def privacy_student_export_csv(request: SignedInRequest, pk: int) -> StreamingHttpResponse:
    """The same as a CSV table (a download)."""
    access = _student_access(request, pk, "privacy office: access log and disclosures (CSV)")
    return _attachment(
        _csv_chunks(access.student), "text/csv; charset=utf-8", _filename(access.student, "csv")
    )
