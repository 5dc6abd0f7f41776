"""The district privacy office's pages under /privacy/ (families' rights under FERPA, issue 21):
thin views over rights.services and rights.selectors, for the district's privacy officer only
(accounts.access; anyone else gets 404). Every page that shows a student logs it; every change
is a POST through a rights service, acting as the user."""

from dashboard.views.privacy.consents import privacy_consent, privacy_consent_new, privacy_consents
from dashboard.views.privacy.disclosures import privacy_disclosure_new, privacy_disclosures
from dashboard.views.privacy.export import privacy_student_export_csv, privacy_student_export_json
from dashboard.views.privacy.notices import privacy_notice, privacy_notice_new, privacy_notices
from dashboard.views.privacy.requests import (
    privacy_amendment,
    privacy_inspection,
    privacy_overview,
    privacy_requests,
)

__all__ = [
    "privacy_amendment",
    "privacy_consent",
    "privacy_consent_new",
    "privacy_consents",
    "privacy_disclosure_new",
    "privacy_disclosures",
    "privacy_inspection",
    "privacy_notice",
    "privacy_notice_new",
    "privacy_notices",
    "privacy_overview",
    "privacy_requests",
    "privacy_student_export_csv",
    "privacy_student_export_json",
]
