from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from accounts import signals  # noqa: F401
        from students.inventory import register_records

        # A login is about its holder (staff or guardian), not a student: a guardian's name and
        # contacts come in the child's package from the guardian record. Grants to see a
        # student are about the student.
        about_holder = (
            "About the login's holder, not a student; password hashes are never exported."
        )
        register_records("accounts.User", category="accounts", personal=False, note=about_holder)
        register_records(
            "accounts.RoleMembership",
            category="access_grants",
            personal=True,
            student_lookup="student",
        )
        for label in (
            "accounts.Invitation",
            "accounts.MFAEnrolmentInvitation",
            "accounts.MFAResetRecord",
        ):
            register_records(label, category="accounts", personal=False, note=about_holder)
