from django.db import models
from django.utils.translation import gettext_lazy as _

from config.choices import Channel


class IdentityChannel(models.TextChoices):
    """How an address reaches a customer. Voice and SMS share the phone number."""

    EMAIL = "email", _("Email address")
    PHONE = "phone", _("Phone number")
    CHAT = "chat", _("Chat / web visitor id")
    SOCIAL = "social", _("Social handle")


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
    STANDARD = "standard", _("Standard")
    SILVER = "silver", _("Silver")
    GOLD = "gold", _("Gold")
    VIP = "vip", _("VIP")
