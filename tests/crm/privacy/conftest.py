"""A customer with a history: identities, a note, e-mail work with messages and an attachment, a survey answer,
webhook deliveries of it all, and a resolved interaction that the KPI report counts."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from crm.interactions import services as lifecycle
from tests.agents.factories import AgentFactory
from tests.contacts.factories import ContactIdentityFactory, CustomerFactory, NoteFactory
from tests.crm.factories import QueueFactory, SurveyFactory, SurveyResponseFactory, WebhookFactory

NAME = "Zelda Quixotic-Private"
EMAIL = "zelda.quixotic@private.example"
PHONE = "+4915199887766"
BODY = "my card ends 4711 and my diagnosis is very private"
REPLY = "Dear Zelda, we are sorry about the diagnosis"
COMMENT = "the agent knew my diagnosis, thanks Xylophone"
NOTE = "Zelda prefers calls after 6pm, lives at Elm Street 5"
SUBJECT = "Question about invoice ZQ-4711"
VALUES = (NAME, EMAIL, PHONE, BODY, REPLY, COMMENT, NOTE, SUBJECT, "Xylophone", "Elm Street 5")


@pytest.fixture
def history(db):
    WebhookFactory(url="http://127.0.0.1:9/hook")
    customer = CustomerFactory(name=NAME, email=EMAIL, phone=PHONE, attributes={"vip_note": NOTE})
    ContactIdentityFactory(customer=customer, address=EMAIL)
    ContactIdentityFactory(customer=customer, channel="phone", address=PHONE)
    NoteFactory(customer=customer, body=NOTE)
    queue = QueueFactory()
    work = lifecycle.interaction_create_inbound(
        channel="email", customer=customer, queue=queue, subject=SUBJECT, body=BODY
    )
    agent = AgentFactory()
    work = lifecycle.interaction_accept(interaction=lifecycle.interaction_assign(interaction=work, agent=agent))
    path = default_storage.save("attachments/test/scan.txt", ContentFile(b"scan of the diagnosis"))
    lifecycle.message_create(
        interaction=work,
        direction="outbound",
        body=REPLY,
        attachments=[{"name": "scan.txt", "content_type": "text/plain", "size": 21, "path": path}],
    )
    work = lifecycle.interaction_resolve(interaction=work, disposition="solved")
    SurveyResponseFactory(survey=SurveyFactory(interaction=work), score=5, comment=COMMENT)
    return {"customer": customer, "interaction": work, "path": path, "queue": queue}
