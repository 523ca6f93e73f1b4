"""Forms of the agent console. They check the shape of the input; the services decide what the state allows."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from agents.choices import AgentStatus
from agents.models import Agent
from agents.status_rules import break_needs_approval
from crm.inboxes.console_forms import ReplyAttachmentsField

# What an agent may pick for themselves (``agents.status_rules``): available, not ready and offline, and on break
# where their team has no break policy (with one, breaks are requested and approved in the console's break panel).
# Busy and wrap-up follow from their work.
AGENT_SELECTABLE_STATUSES = [AgentStatus.AVAILABLE, AgentStatus.NOT_READY, AgentStatus.ON_BREAK, AgentStatus.OFFLINE]


def agent_selectable_statuses(*, agent: Agent) -> list[AgentStatus]:
    """The status buttons ``agent`` is offered: on break only where ``break_needs_approval`` says no."""
    if break_needs_approval(agent=agent):
        return [status for status in AGENT_SELECTABLE_STATUSES if status != AgentStatus.ON_BREAK]
    return list(AGENT_SELECTABLE_STATUSES)


def apply_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's field errors on the form: under the field when the form has it, else above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class StatusForm(forms.Form):
    # every status an agent may pick somewhere; whether this agent may take it now is the service's to say
    status = forms.ChoiceField(choices=[(s.value, s.label) for s in AGENT_SELECTABLE_STATUSES])


class MessageForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        strip=False,  # the customer gets the text as typed; the service refuses a blank one
        error_messages={"required": "Write something first."},
    )

    def clean_body(self):
        body = self.cleaned_data["body"]
        if not body.strip():
            raise ValidationError(_("Write something first."))
        limit = settings.SWITCHBOARD_MAX_MESSAGE_LENGTH  # read per request, like the service does
        if len(body) > limit:
            raise ValidationError(
                _("A message has at most %(limit)s characters (this one has %(len)s).")
                % {"limit": limit, "len": len(body)}
            )
        return body


class ReplyForm(MessageForm):
    """A message to the customer."""

    attachments = ReplyAttachmentsField(label="Attach files")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "reply_%s")  # two message forms share a page: distinct ids for the labels
        super().__init__(*args, **kwargs)
        self.fields["body"].widget.attrs["accesskey"] = "r"


class NoteForm(MessageForm):
    """An internal note: colleagues see it, the customer never does."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "note_%s")
        super().__init__(*args, **kwargs)
        self.fields["body"].widget.attrs.update(accesskey="n", rows=2)


class TransferForm(forms.Form):
    queue = forms.ModelChoiceField(queryset=None, required=False, empty_label="— choose a queue —")
    agent = forms.ModelChoiceField(queryset=None, required=False, empty_label="— or an agent —")
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, help_text="Kept as an internal note."
    )

    def __init__(self, *args, queues, agents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = queues
        self.fields["agent"].queryset = agents
        self.fields["queue"].widget.attrs["accesskey"] = "t"

    def clean(self):
        cleaned = super().clean()
        if not self.errors and (cleaned.get("queue") is None) == (cleaned.get("agent") is None):
            raise ValidationError(_("Choose either a queue or an agent to transfer to, not both."))
        return cleaned


class ResolveForm(forms.Form):
    disposition = forms.CharField(
        max_length=100,
        help_text="The outcome, e.g. 'solved', 'refund issued', 'escalated to billing'.",
        error_messages={"required": "Say how it ended: the disposition is required."},
    )
    category = forms.CharField(max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["disposition"].widget.attrs["accesskey"] = "d"
