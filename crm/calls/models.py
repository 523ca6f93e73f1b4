"""A call: the voice interaction's telephony side — the provider's id, who called, the IVR path, the recording.

The interaction is the work (queued, offered, answered, resolved like any other); the ``Call`` keeps what only a
call has: ``ivr_path`` (each menu step the caller took, in order), ``outcome`` (how it ended: in the IVR without an
agent, abandoned waiting, or answered), the step where it was abandoned, and the recording's URL.
"""

from django.db import models


class CallOutcome(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    SELF_SERVICE = "self_service", "Ended in the IVR (self-service)"
    ABANDONED = "abandoned", "Abandoned waiting for an agent"
    ANSWERED = "answered", "Answered by an agent"


class Call(models.Model):
    interaction = models.OneToOneField("crm.Interaction", on_delete=models.CASCADE, related_name="call")
    inbox = models.ForeignKey("crm.Inbox", on_delete=models.PROTECT, related_name="calls")
    provider_call_id = models.CharField(max_length=100, help_text="the telephony platform's id (Twilio's CallSid)")
    caller = models.CharField(max_length=32, blank=True)
    ivr_path = models.JSONField(default=list, blank=True, help_text='[{"menu", "choice", "at"}] in order')
    outcome = models.CharField(max_length=16, choices=CallOutcome.choices, default=CallOutcome.IN_PROGRESS)
    abandoned_at_step = models.CharField(max_length=120, blank=True, help_text="the last IVR step before hanging up")
    recording_url = models.URLField(max_length=500, blank=True)
    started_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["inbox", "provider_call_id"], name="call_once_per_inbox")]
        indexes = [models.Index(fields=["started_at"], name="call_started")]

    def __str__(self) -> str:
        return f"call {self.provider_call_id} ({self.outcome})"

    @property
    def last_step(self) -> str:
        if not self.ivr_path:
            return ""
        step = self.ivr_path[-1]
        return f"{step.get('menu', '')}:{step.get('choice', '')}"
