"""Permission-scoped reads of imports: district staff see and start their districts' imports;
anyone else gets a 404 (the page's existence is not confirmed)."""

from django.db.models import QuerySet
from django.http import Http404

from accounts.access import AnyUser, districts_administered_by
from interop.models import ImportRun
from students.models import District


def import_districts_for(user: AnyUser) -> list[District]:
    """The districts the user may import into (district staff); 404 for everyone else."""
    districts = list(districts_administered_by(user).order_by("name"))
    if not districts:
        raise Http404("No such page.")
    return districts


def import_runs_for(user: AnyUser) -> QuerySet[ImportRun]:
    return ImportRun.objects.filter(district__in=districts_administered_by(user)).select_related(
        "district", "created_by"
    )


def import_run_for_user(user: AnyUser, pk: int) -> ImportRun:
    run = import_runs_for(user).filter(pk=pk).first()
    if run is None:
        raise Http404("No such import.")
    return run
