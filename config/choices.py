"""Vocabulary shared by every app (contacts, agents and crm all speak of channels)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    VOICE = "voice", _("Voice")
    EMAIL = "email", _("Email")
    CHAT = "chat", _("Chat")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    SOCIAL = "social", _("Social")
    WEB = "web", _("Web form")
