"""Vocabulary shared by every app (contacts, agents and crm all speak of channels)."""

from django.db import models


class Channel(models.TextChoices):
    VOICE = "voice", "Voice"
    EMAIL = "email", "Email"
    CHAT = "chat", "Chat"
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    SOCIAL = "social", "Social"
    WEB = "web", "Web form"
