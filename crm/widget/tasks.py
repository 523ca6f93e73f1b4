from celery import shared_task

from .transcript import widget_transcript_send


@shared_task(name="crm.tasks.widget_transcript_task", ignore_result=True)
def widget_transcript_task(interaction_id: int, email: str, request_id: str) -> bool:
    """Mail a chat transcript the visitor asked for; a redelivered message sends nothing more (request id)."""
    return widget_transcript_send(interaction_id=interaction_id, email=email, request_id=request_id)
