import factory
from factory.django import DjangoModelFactory

from contacts.choices import IdentityChannel
from contacts.models import ContactIdentity, Customer, Note, Organization


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    domain = factory.Sequence(lambda n: f"org{n}.example.com")


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    phone = ""
    language = "en"


class ContactIdentityFactory(DjangoModelFactory):
    class Meta:
        model = ContactIdentity

    customer = factory.SubFactory(CustomerFactory)
    channel = IdentityChannel.EMAIL
    address = factory.Sequence(lambda n: f"identity{n}@example.com")


class NoteFactory(DjangoModelFactory):
    class Meta:
        model = Note

    customer = factory.SubFactory(CustomerFactory)
    body = factory.Faker("sentence")
