"""The demo's rollups (a seed step after the records): the school and district pages read them,
so the seed ends with them built from everything the earlier steps wrote."""

from time import monotonic
from typing import TYPE_CHECKING

from django.db import connection

if TYPE_CHECKING:
    from demo.district import DemoBuild


def seed_rollups(build: "DemoBuild") -> None:
    from assessments.models import MasteryEstimate, MasteryEstimateHistory, MasteryOverride
    from assessments.signals import estimates_changed_forget
    from demo.district import tables_analyze
    from rollups.models import RollupRebuild
    from rollups.services import rollups_rebuild
    from students.models import Enrollment, ProgramParticipation, StudentSchoolMembership

    assert build.district is not None  # noqa: S101 - the district step runs first
    started = monotonic()
    if connection.vendor == "postgresql":
        # The planner must know the rows the seed wrote in this transaction (demo.district).
        tables_analyze(
            [
                StudentSchoolMembership,
                Enrollment,
                ProgramParticipation,
                MasteryEstimate,
                MasteryEstimateHistory,
                MasteryOverride,
            ]
        )
    report = rollups_rebuild(build.district.pk, today=build.today, reason=RollupRebuild.Reason.SEED)
    # The replay's recomputes queued a notice for every student they touched; the rebuild has
    # just counted all of it, so the notice would only recount the same rows after commit.
    estimates_changed_forget()
    build.progress(
        f"rollups: {report.rows} rows for {report.schools} schools over {len(report.months)} "
        f"months in {monotonic() - started:.1f}s"
    )
