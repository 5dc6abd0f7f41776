"""The demo district's annual notice of rights (34 CFR 99.7), published by its privacy officer
(the district login) so that the portal asks the demo parent to acknowledge it."""

from datetime import date

from accounts.models import User
from rights.models import AnnualNotice, DirectoryItem
from rights.services import notice_publish
from students.models import District

DIRECTORY_INFORMATION = [
    DirectoryItem.NAME,
    DirectoryItem.GRADE_LEVEL,
    DirectoryItem.DATES_OF_ATTENDANCE,
    DirectoryItem.ACTIVITIES,
    DirectoryItem.ATHLETES,
    DirectoryItem.HONORS,
    DirectoryItem.PHOTOGRAPH,
]

# Paragraphs, as families read them (the portal keeps the blank lines between them).
NOTICE_BODY = "\n\n".join(
    [
        (
            "The Family Educational Rights and Privacy Act (FERPA) gives parents, and students "
            "once they turn 18 or attend a postsecondary school, these rights over the student's "
            "education records."
        ),
        (
            "1. To inspect and review the records within 45 days of the day the district receives "
            'a request. Ask in the family portal ("Your rights", then "Ask to see my child\'s '
            'records"), or write to the privacy officer. The district prepares the records and '
            "tells you when and where to read them; in the portal they are delivered as a file "
            "you can download."
        ),
        (
            "2. To ask for a correction of records you believe are inaccurate, misleading or "
            "otherwise in violation of the student's privacy rights. Say which part of the record "
            "and why. If the district decides not to change it, it tells you of its decision and "
            "of your right to a hearing. If the record still stands after a hearing, you may add "
            "a statement to it, which the district keeps with the record and sends with every "
            "later disclosure of that part."
        ),
        (
            "3. To give consent before the district discloses personal information from the "
            "records, except where the law allows disclosure without consent. One exception is "
            "disclosure to school officials with a legitimate educational interest: district "
            "staff, and contractors, consultants or volunteers who perform a service the district "
            "would otherwise use its own staff for, under the direct control of the district. "
            "Others are a court order or lawfully issued subpoena, and directory information "
            "(below). Every disclosure is recorded, and you can read the record in the portal "
            '("Who has seen").'
        ),
        (
            "4. To file a complaint with the U.S. Department of Education about an alleged "
            "failure of the district to comply with FERPA: Student Privacy Policy Office, U.S. "
            "Department of Education, 400 Maryland Avenue, SW, Washington, DC 20202."
        ),
        (
            "Directory information. The district designates the items listed below as directory "
            "information, which it may disclose without consent, for example in a yearbook, a "
            "playbill, an honor roll or a sports program. You may opt your child out of directory "
            "information in the portal at any time; the opt-out does not stop disclosures to "
            "school officials under contract, who still receive names."
        ),
    ]
)


def demo_notice_publish(*, district: District, privacy_officer: User, today: date) -> AnnualNotice:
    """The notice of the school year that holds `today` (a year starting in August), which
    AnnualNotice names by the year it ends in."""
    starts = today.year if today.month >= 8 else today.year - 1
    return notice_publish(
        acting_user=privacy_officer,
        district=district,
        school_year=starts + 1,
        title=f"Annual notice of your rights, {starts}–{starts + 1}",
        body=NOTICE_BODY,
        directory_information=[str(item) for item in DIRECTORY_INFORMATION],
        opt_out_by=date(starts, 10, 1),
    )
