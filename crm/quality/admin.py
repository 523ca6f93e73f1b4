"""Quality in the admin: scorecards, a sampling page, scoring a review criterion by criterion; canned responses.

Supervisors see only reviews of their teams' agents (administrators all), like the rest of the cockpit
(``agents.admin_supervision``); scorecards are the center's: supervisors use them, administrators change them.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from agents.admin_scope import AdministratorsChange, TeamScoped, choices_for, supervised_team_ids
from agents.admin_supervision import TeamScopedAdmin, visible_agents
from config.admin_tools import error_text
from config.errors import DomainError
from crm.choices import ReviewStatus
from crm.routing.models import Queue

from .models import REVIEW_SCALE_MAX, CannedResponse, Review, Scorecard, ScorecardCriterion
from .services import SampleSpec, review_complete, review_sample


class ScorecardCriterionInline(admin.TabularInline):
    model = ScorecardCriterion
    extra = 0
    fields = ["position", "name", "weight", "description"]


@admin.register(Scorecard)
class ScorecardAdmin(AdministratorsChange, admin.ModelAdmin):
    list_display = ["name", "is_active", "created_at"]
    search_fields = ["name"]
    inlines = [ScorecardCriterionInline]


class SampleForm(forms.Form):
    scorecard = forms.ModelChoiceField(queryset=Scorecard.objects.filter(is_active=True))
    start = forms.SplitDateTimeField(widget=AdminSplitDateTime)
    end = forms.SplitDateTimeField(widget=AdminSplitDateTime)
    queue = forms.ModelChoiceField(queryset=Queue.objects.all(), required=False)
    agent = forms.ModelChoiceField(queryset=None, required=False)
    count = forms.IntegerField(min_value=1, max_value=500, required=False, help_text="how many, at random")
    low_csat = forms.BooleanField(required=False, label="All with CSAT ≤ 2 instead")

    def __init__(self, *args, request, site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = visible_agents(request)
        self.fields["queue"].queryset = choices_for(request, site, Queue)


class ReviewScoreForm(forms.ModelForm):
    """Completes a review; ``for_review`` adds one 0–5 field per criterion of its scorecard."""

    criteria: list[ScorecardCriterion] = []

    class Meta:
        model = Review
        fields = ["comment"]

    @classmethod
    def for_review(cls, review: Review) -> type["ReviewScoreForm"]:
        criteria = list(review.scorecard.criteria.all())
        fields = {
            f"criterion_{c.pk}": forms.IntegerField(
                label=f"{c.name} (×{c.weight})", min_value=0, max_value=REVIEW_SCALE_MAX, help_text=c.description
            )
            for c in criteria
        }
        return type("ReviewScoreForm", (cls,), {**fields, "criteria": criteria})

    def scores(self) -> dict[str, int]:
        return {c.name: self.cleaned_data[f"criterion_{c.pk}"] for c in self.criteria}


@admin.register(Review)
class ReviewAdmin(TeamScopedAdmin):
    list_display = ["interaction", "agent", "scorecard", "status", "total_score", "reviewer", "created_at"]
    list_filter = ["status", "scorecard", "agent__team"]
    list_select_related = ["interaction", "agent", "scorecard", "reviewer"]
    search_fields = ["agent__name", "comment"]
    change_list_template = "admin/crm/review_change_list.html"

    def has_add_permission(self, request):
        return False

    def get_readonly_fields(self, request, obj=None):
        base = ["interaction", "agent", "scorecard", "status", "total_score", "reviewer", "created_at"]
        return base + ["comment"] if obj is not None and obj.status == ReviewStatus.COMPLETED else base

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None and obj.status == ReviewStatus.PENDING:
            kwargs["form"] = ReviewScoreForm.for_review(obj)
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj, form, change):
        if obj.status != ReviewStatus.PENDING or not isinstance(form, ReviewScoreForm):
            return
        try:
            review_complete(review=obj, reviewer=request.user, scores=form.scores(), comment=obj.comment)
        except (DomainError, ValidationError) as exc:
            self.message_user(request, error_text(exc), messages.ERROR)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [path("sample/", wrap(self.sample_view), name="crm_review_sample"), *super().get_urls()]

    def sample_view(self, request):
        """Sample interactions for review: random N from a queue / agent / period, or all with low CSAT."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = SampleForm(request.POST or None, request=request, site=self.admin_site)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                created = review_sample(
                    spec=SampleSpec(
                        scorecard=data["scorecard"],
                        start=data["start"],
                        end=data["end"],
                        queue=data["queue"],
                        agent=data["agent"],
                        count=data["count"],
                        low_csat=data["low_csat"],
                        agent_ids=self._agent_ids(request),
                    ),
                    actor=request.user,
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                self.message_user(
                    request,
                    ngettext("%(count)d review to do.", "%(count)d reviews to do.", len(created))
                    % {"count": len(created)},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:crm_review_changelist") + "?status__exact=pending")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Sample interactions to review"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/crm/review_sample.html", context)

    def _agent_ids(self, request):
        if supervised_team_ids(request) is None:
            return None
        return list(visible_agents(request).values_list("pk", flat=True))


# --- canned responses ---------------------------------------------------------------------------------------


@admin.register(CannedResponse)
class CannedResponseAdmin(TeamScoped, admin.ModelAdmin):
    team_path, shared_team, owner_field = "queue__team_id", True, "queue"
    list_display = ["title", "shortcut", "queue", "is_active", "created_at"]
    list_filter = ["is_active", "queue"]
    list_select_related = ["queue"]
    search_fields = ["title", "shortcut", "body"]
    fields = ["title", "shortcut", "body", "queue", "is_active"]
