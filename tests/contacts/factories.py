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


class IdentifiedCustomerFactory(CustomerFactory):
    """A customer whose e-mail is also their primary identity, as the services create them."""

    class Meta:
        skip_postgeneration_save = True

    @factory.post_generation
    def primary_identity(obj, create, extracted, **kwargs):
        if create and obj.email:
            ContactIdentity.objects.create(
                customer=obj, channel=IdentityChannel.EMAIL, address=obj.email, is_primary=True
            )
