"""The school's pages, for its principal and its district's staff: the school at a glance, and
its dated exceptions (substitutes given a section between two dates)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.access import SignedInRequest, school_for_user
from accounts.services import GrantRefused, substitute_end, substitute_grant
from dashboard.forms import SubstituteEndForm, SubstituteForm
from dashboard.selectors import school_overview
from dashboard.selectors import school_substitutes as school_substitutes_of
from students.models import Section


@login_required
def school_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = school_for_user(request.user, pk)
    return render(
        request,
        "students/school_detail.html",
        {"overview": school_overview(access.school), "role": access.role},
    )


@login_required
@require_http_methods(["GET", "POST"])
def school_substitutes(request: SignedInRequest, pk: int) -> HttpResponse:
    """The school's dated exceptions: a substitute given one section between two dates, made
    and ended by the principal or district staff (the grant names who made it and why)."""
    access = school_for_user(request.user, pk)
    school = access.school
    sections = Section.objects.filter(school=school, is_active=True).order_by("title")
    form = SubstituteForm(
        request.POST if request.POST.get("action") == "grant" else None, sections=sections
    )
    if request.method == "POST":
        if request.POST.get("action") == "end":
            end_form = SubstituteEndForm(request.POST)
            if not end_form.is_valid():
                return HttpResponseBadRequest("Which grant to end? The form named none.")
            try:
                substitute_end(
                    acting_user=request.user, membership_id=end_form.cleaned_data["membership"]
                )
            except GrantRefused as refused:
                raise Http404(str(refused)) from refused
            messages.success(request, "That substitute's access has ended.")
            return redirect(request.path)
        if form.is_valid():
            membership = substitute_grant(
                acting_user=request.user,
                substitute=form.cleaned_data["email"],
                section=form.cleaned_data["section"],
                begin_date=form.cleaned_data["begin_date"],
                end_date=form.cleaned_data["end_date"],
                reason=form.cleaned_data["reason"],
            )
            messages.success(
                request,
                f"{membership.user.email} may open {form.cleaned_data['section'].title} from "
                f"{membership.begin_date:%b %-d} through {membership.end_date:%b %-d, %Y}.",
            )
            return redirect(request.path)
    return render(
        request,
        "students/school_substitutes.html",
        {"school": school, "form": form, "grants": school_substitutes_of(school)},
        status=400 if form.is_bound and form.errors else 200,
    )
