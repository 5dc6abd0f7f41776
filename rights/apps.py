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

        guardian_grant_limit_register("rights.eligible_student", parents_access_ended)
        register_inventory()


def parents_access_ended() -> Q:
    """Guardian relationships that grant nothing: their child holds their own rights and the
    district (or the privacy office, for this student) ended parents' portal access."""
    return Q(student__rights_eligibility__parents_portal_access_ended=True)


def register_inventory() -> None:
    """What each of the app's models holds about a student (students.inventory): the inspection
    package gathers a child's rows of each personal one."""
    try:
        from students.inventory import register_category, register_records
    except ImportError:  # the registry is being written beside this app: no entries yet
        return
    register_category(
        "disclosures",
        "Disclosures",
        "Each time the district gave the child's records to someone outside the school "
        "officials: to whom, what, when and on what basis.",
    )
    register_category(
        "family_rights",
        "Your requests and choices",
        "The family's consents, opt-outs, requests to inspect or amend the records and their "
        "answers, and acknowledgements of the district's annual notice.",
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
