"""A signed-in person's language and time zone: the middleware that applies them to each request, and the
"My preferences" page where they set them (linked from the admin's user menu and the console's top bar).

The choice is read from the database once per session and kept in the session, so pages pay no query for it.
API requests (/api/) follow the client's Accept-Language instead: an integrator's key has no person behind it.
"""

import zoneinfo

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from .preference_models import UserPreference

SESSION_KEY = "switchboard_preference"


def _cached_preference(request) -> tuple[str, str]:
    cached = request.session.get(SESSION_KEY)
    if cached and cached[0] == request.user.pk:
        return cached[1], cached[2]
    row = UserPreference.objects.filter(user=request.user).values_list("language", "time_zone").first()
    language, time_zone = row or ("", "")
    request.session[SESSION_KEY] = [request.user.pk, language, time_zone]
    return language, time_zone


def _remember(request, preference: UserPreference) -> None:
    request.session[SESSION_KEY] = [request.user.pk, preference.language, preference.time_zone]


class UserPreferenceMiddleware:
    """After AuthenticationMiddleware: the user's language (else LocaleMiddleware's pick from the browser) and time
    zone (else TIME_ZONE) for this request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith("/api/"):
            return self.get_response(request)
        language, time_zone = _cached_preference(request)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        if time_zone:
            timezone.activate(zoneinfo.ZoneInfo(time_zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def _time_zone_choices():
    return [("", _("Installation default (%(zone)s)") % {"zone": settings.TIME_ZONE})] + [
        (name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())
    ]


class PreferenceForm(forms.ModelForm):
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False, choices=_time_zone_choices)

    class Meta:
        model = UserPreference
        fields = ["language", "time_zone"]
        labels = {"language": _("Language")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("Browser's language"))] + list(settings.LANGUAGES)


@login_required
@require_http_methods(["GET", "POST"])
def preferences_view(request):
    preference = UserPreference.objects.filter(user=request.user).first() or UserPreference(user=request.user)
    form = PreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST" and form.is_valid():
        preference = form.save()
        _remember(request, preference)
        # the confirmation already in the language just chosen
        translation.activate(preference.language or translation.get_language_from_request(request))
        messages.success(request, _("Your preferences have been saved."))
        return redirect("preferences")
    return render(request, "agents/preferences.html", {"form": form, "title": _("My preferences")})
