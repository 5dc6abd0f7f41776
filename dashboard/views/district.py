from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from interop import selectors
from interop.forms import ImportUploadForm
from interop.services import UploadRejected, import_upload_start


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    districts = selectors.import_districts_for(request.user)
    form = ImportUploadForm(request.POST or None, request.FILES or None, districts=districts)
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
    runs = selectors.import_runs_for(request.user)[:20]
    return render(request, "interop/import_upload.html", {"form": form, "runs": runs})


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
