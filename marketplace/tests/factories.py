from decimal import Decimal

import factory
from allauth.account.models import EmailAddress

from accounts.models import DeveloperProfile, User
from marketplace.models import Agent, AgentVersion, Category, Review
from marketplace.services import agent_set_current_version

INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "text": {
            "type": "string",
            "title": "Text",
            "minLength": 1,
            "description": "What to process.",
        },
        "limit": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
    },
    "required": ["text"],
}
OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {"result": {"type": "string"}},
    "required": ["result"],
}


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Sequence(lambda n: f"User {n}")
    password = factory.django.Password("correct-horse-battery-staple")

    @factory.post_generation
    def verified_email(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.get_or_create(
                user=obj, email=obj.email, defaults={"verified": True, "primary": True}
            )


class DeveloperProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeveloperProfile

    user = factory.SubFactory(UserFactory)
    display_name = factory.Sequence(lambda n: f"Dev Studio {n}")
    slug = factory.Sequence(lambda n: f"dev-studio-{n}")
    verified = True


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    slug = "general"
    name = factory.LazyAttribute(
        lambda o: {
            "general": "General",
            "crypto": "Crypto",
            "ai-ml": "AI/ML",
            "automation": "Automation",
        }.get(o.slug, o.slug.title())
    )


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent

    slug = factory.Sequence(lambda n: f"agent-{n}")
    name = factory.Sequence(lambda n: f"Agent {n}")
    summary = "Does a useful thing quickly."
    description = "A **useful** agent.\n\n- fast\n- careful"
    category = factory.SubFactory(CategoryFactory)
    tags = factory.LazyFunction(lambda: ["utility"])
    developer = factory.SubFactory(DeveloperProfileFactory)

    # Not a model field: the price of the current version, or None for a version-less draft.
    price = Decimal("1.00")

    @classmethod
    def _create(cls, model_class, *args, price=None, **kwargs):
        agent = super()._create(model_class, *args, **kwargs)
        if price is not None:
            version = AgentVersionFactory(agent=agent, price=price)
            agent_set_current_version(agent=agent, version=version)
        return agent


class AgentVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentVersion

    agent = factory.SubFactory(AgentFactory, price=None)
    version = factory.Sequence(lambda n: f"1.0.{n}")
    image_ref = factory.LazyAttribute(lambda o: f"agentnexus/{o.agent.slug}:{o.version}")
    input_schema = factory.LazyFunction(lambda: dict(INPUT_SCHEMA))
    output_schema = factory.LazyFunction(lambda: dict(OUTPUT_SCHEMA))
    example_input = factory.LazyFunction(lambda: {"text": "hello", "limit": 2})
    price = Decimal("1.00")
    currency = "USDC"


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    agent = factory.SubFactory(AgentFactory)
    author = factory.SubFactory(UserFactory)
    rating = 4
    body = "Solid and fast."
