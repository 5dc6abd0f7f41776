from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from interop import selectors
from interop.forms import ImportUploadForm
from interop.services import UploadRejected, import_upload_start
from interop.uploads import LimitedUploadHandler, refused_before_reading


# Exempt from the CSRF middleware only so that the size limit comes first: the middleware reads
# the whole body to find the token. _import_upload_checked checks the token (csrf_protect), once
# the body is read through LimitedUploadHandler. (Django's documented way to change a view's
# upload handlers.)
@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    limited = None
    if request.method == "POST":
        refused = refused_before_reading(request)
        if refused is not None:
            status, message = refused
            return _upload_page(request, refused=message, status=status)  # the body is not read
        limited = LimitedUploadHandler(request)
        request.upload_handlers = [limited, *request.upload_handlers]
    return _import_upload_checked(request, limited)


@csrf_protect
def _import_upload_checked(
    request: HttpRequest, limited: LimitedUploadHandler | None
) -> HttpResponse:
    # Reading FILES parses the body through LimitedUploadHandler (csrf_protect has, to find the
    # token, unless the request is exempt from the checks).
    files = request.FILES
    if limited is not None and limited.exceeded:
        return _upload_page(request, refused=limited.message, status=413)
    districts = selectors.import_districts_for(request.user)
    form = ImportUploadForm(request.POST or None, files or None, districts=districts)
    if request.method == "POST" and form.is_valid():
        try:
            run = import_upload_start(
                uploaded_file=form.cleaned_data["upload"],
                format=form.cleaned_data["format"],
                acting_user=request.user,
                district_id=form.cleaned_data["district"].pk,
                dry_run=form.cleaned_data["dry_run"],
            )
        except UploadRejected as exc:
            form.add_error("upload", str(exc))
        else:
            return redirect("interop:import_run", pk=run.pk)
    return _upload_page(request, form)


def _upload_page(
    request: HttpRequest,
    form: ImportUploadForm | None = None,
    *,
    refused: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """The upload page; with `refused`, the message of an upload refused before it was read."""
    if form is None:
        form = ImportUploadForm(districts=selectors.import_districts_for(request.user))
    runs = selectors.import_runs_for(request.user)[:20]
    return render(
        request,
        "interop/import_upload.html",
        {"form": form, "runs": runs, "refused": refused},
        status=status,
    )


@login_required
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = selectors.import_run_for_user(request.user, pk)
    return render(request, "interop/import_run.html", {"run": run})


@login_required
def import_run_status(request: HttpRequest, pk: int) -> JsonResponse:
    run = selectors.import_run_for_user(request.user, pk)
    return JsonResponse(
        {
            "status": run.status,
            "finished": run.is_finished,
            "percent": run.progress_percent,
            "label": run.progress_label,
        }
    )
