from django.apps import AppConfig
from django.db.models import Q


class RightsConfig(AppConfig):
    """Families' rights under FERPA (issue 21): the annual notice, directory opt-outs, consent,
    the one disclosure service and its records, inspection and amendment requests, students who
    hold their own rights. A feature: it reads the records, asks accounts.access who may act,
    and writes the access log through privacy.services."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "rights"
    verbose_name = "Families' rights (FERPA)"

    def ready(self) -> None:
        from accounts.access import guardian_grant_limit_register
        from privacy.roles import append_only_register
        from rights.models import RightsEvent

        guardian_grant_limit_register("rights.eligible_student", parents_access_ended)
        register_inventory()
        # The runtime database role may add to the rights trail, never change or erase it (the
        # trigger of rights/migrations/0002 refuses it whoever asks).
        append_only_register(RightsEvent._meta.db_table, trigger="rights_event_append_only")


def parents_access_ended() -> Q:
    """Guardian relationships that grant nothing: their child holds their own rights and the
    district (or the privacy office, for this student) ended parents' portal access."""
    return Q(student__rights_eligibility__parents_portal_access_ended=True)


def register_inventory() -> None:
    """What each of the app's models holds about a student (students.inventory): the inspection
    package gathers a child's rows of each personal one."""
    from django.utils.translation import gettext_lazy as _

    from students.inventory import register_category, register_records

    # "disclosures" is one of the registry's own categories (students.inventory).
    register_category(
        "family_rights",
        _("Your requests and choices"),
        _(
            "The family's consents, opt-outs, requests to inspect or amend the records and their "
            "answers, and acknowledgements of the district's annual notice."
        ),
    )
    personal = {
        "rights.DisclosureRecord": "disclosures",
        "rights.Consent": "family_rights",
        "rights.DirectoryOptOut": "family_rights",
        "rights.NoticeAcknowledgement": "family_rights",
        "rights.InspectionRequest": "family_rights",
        "rights.AmendmentRequest": "family_rights",
        "rights.EligibleStudent": "family_rights",
        "rights.RightsEvent": "family_rights",
    }
    for label, category in personal.items():
        register_records(
            label, category=category, personal=True, student_lookup="student", replace=True
        )
    not_personal = {
        "rights.RightsPolicy": "The district's settings.",
        "rights.AnnualNotice": "The district's notice to every family.",
        "rights.Recipient": "Who records may go to; a student's disclosures name them.",
        "rights.ConsentRequest": "The district's request to families; a child's consents are "
        "under family_rights.",
    }
    for label, note in not_personal.items():
        register_records(label, category="family_rights", personal=False, note=note, replace=True)
