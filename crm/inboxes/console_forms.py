"""What a console reply may carry besides its text: files the agent attaches (sent with the reply by its inbox)."""

from django import forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from .attachments import attachment_store

MAX_FILES = 10
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_TOTAL_BYTES = 20 * 1024 * 1024  # what mail servers commonly accept, once base64 has grown it by a third


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class ReplyAttachmentsField(forms.FileField):
    """Several files at once (Django's documented recipe), each and all within the limits mail servers accept."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", f"at most {MAX_FILES} files, {filesizeformat(MAX_TOTAL_BYTES)} in all")
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        files = [super(ReplyAttachmentsField, self).clean(item, initial) for item in files]
        if len(files) > MAX_FILES:
            raise ValidationError(_("Attach at most %(MAX_FILES)s files.") % {"MAX_FILES": MAX_FILES})
        for item in files:
            if item.size > MAX_FILE_BYTES:
                raise ValidationError(
                    _("%(name)s is over %(filesizeformat)s.")
                    % {"name": item.name, "filesizeformat": filesizeformat(MAX_FILE_BYTES)}
                )
        if sum(item.size for item in files) > MAX_TOTAL_BYTES:
            raise ValidationError(
                _("The files are over %(filesizeformat)s together.")
                % {"filesizeformat": filesizeformat(MAX_TOTAL_BYTES)}
            )
        return files


def reply_attachments_store(files) -> list[dict]:
    """Store the uploaded files; the entries for ``Message.attachments``."""
    return [
        attachment_store(filename=item.name, content_type=item.content_type or "", data=item.read()) for item in files
    ]
