from django.db import models

from config.choices import Channel


class IdentityChannel(models.TextChoices):
    """How an address reaches a customer. Voice and SMS share the phone number."""

    EMAIL = "email", "Email address"
    PHONE = "phone", "Phone number"
    CHAT = "chat", "Chat / web visitor id"
    SOCIAL = "social", "Social handle"


# Which identity an interaction channel's sender address is.
IDENTITY_FOR_CHANNEL = {
    Channel.VOICE: IdentityChannel.PHONE,
    Channel.SMS: IdentityChannel.PHONE,
    Channel.WHATSAPP: IdentityChannel.PHONE,
    Channel.EMAIL: IdentityChannel.EMAIL,
    Channel.CHAT: IdentityChannel.CHAT,
    Channel.WEB: IdentityChannel.EMAIL,
    Channel.SOCIAL: IdentityChannel.SOCIAL,
}


class Tier(models.TextChoices):
    STANDARD = "standard", "Standard"
    SILVER = "silver", "Silver"
    GOLD = "gold", "Gold"
    VIP = "vip", "VIP"
