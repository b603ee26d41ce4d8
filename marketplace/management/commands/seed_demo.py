"""Idempotent demo data: the spec's 20 agents, a demo user, a demo developer and an admin.

The runnable agents (agents/catalog/<slug>/) are not created here: `manage.py catalog_publish`
publishes them through the submission pipeline (make run runs it after this command). Where a
catalog agent has the slug of one of the spec's agents (pdf-extractor, knowledge-qa), the demo
entry is left out so the real agent can take the slug.
"""

from decimal import Decimal

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import DeveloperProfile, User
from accounts.services import developer_profile_create
from agents.catalog_publish import catalog_agent_dirs
from marketplace.demo_catalog import DEMO_AGENTS
from marketplace.models import Agent, AgentVersion, Category, Review
from marketplace.services import agent_create, agent_version_create, review_create

DEMO_REVIEWS = [
    ("web-content-summarizer", 5, "Turned a 4,000-word article into five crisp sentences."),
    ("spreadsheet-analyzer", 4, "Column stats are spot on; I would love percentiles too."),
    ("whale-tracker", 5, "Caught a large transfer to an exchange minutes before the move."),
    ("gas-fee-optimizer", 4, "Saved me a noticeable amount on a batch of transfers."),
]


class Command(BaseCommand):
    help = "Create or complete the demo catalog and accounts. Safe to run repeatedly."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--password", default=None, help="Password for new demo accounts.")

    def _user(self, email: str, password: str, *, display_name: str, staff: bool = False) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            create = User.objects.create_superuser if staff else User.objects.create_user
            user = create(email=email, password=password, display_name=display_name)
            self.stdout.write(f"  created {email}")
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        return user

    @transaction.atomic
    def handle(self, *args, password: str | None, **options) -> None:
        if settings.SETTINGS_MODULE.endswith(".production"):
            raise CommandError(
                "seed_demo creates accounts with known passwords: not in production."
            )
        password = password or "agentnexus-demo"
        self.stdout.write("Seeding the demo catalog…")
        demo = self._user("demo@agentnexus.local", password, display_name="Demo User")
        dev_user = self._user("dev@agentnexus.local", password, display_name="Demo Developer")
        self._user("admin@agentnexus.local", password, display_name="Admin", staff=True)
        developer = DeveloperProfile.objects.filter(
            user=dev_user
        ).first() or developer_profile_create(
            user=dev_user,
            display_name="AgentNexus Labs",
            payout_address="0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            bio="The platform team's reference agents.",
        )
        if not developer.verified:
            developer.verified = True
            developer.save(update_fields=["verified"])

        categories = {c.slug: c for c in Category.objects.all()}
        catalog = {path.name for path in catalog_agent_dirs()}
        created_agents = created_versions = 0
        for spec in DEMO_AGENTS:
            if spec["slug"] in catalog:
                continue  # published from agents/catalog/ by catalog_publish
            agent = Agent.objects.filter(slug=spec["slug"]).first()
            if agent is None:
                agent = agent_create(
                    developer=developer,
                    slug=spec["slug"],
                    name=spec["name"],
                    summary=spec["summary"],
                    description=spec["description"],
                    category=categories[spec["category"]],
                    tags=spec["tags"],
                    featured=spec["featured"],
                )
                created_agents += 1
            existing = set(
                AgentVersion.objects.filter(agent=agent).values_list("version", flat=True)
            )
            for version in spec["versions"]:
                if version["version"] in existing:
                    continue
                agent_version_create(
                    agent=agent,
                    version=version["version"],
                    changelog=version.get("changelog", ""),
                    image_ref=version["image_ref"],
                    input_schema=version["input_schema"],
                    output_schema=version["output_schema"],
                    example_input=version["example_input"],
                    memory_mb=version["memory_mb"],
                    cpus=Decimal(version["cpus"]),
                    timeout_seconds=version["timeout_seconds"],
                    price=Decimal(version["price"]),
                    currency=version["currency"],
                )
                created_versions += 1

        for slug, rating, body in DEMO_REVIEWS:
            agent = Agent.objects.filter(slug=slug).first()
            if agent and not Review.objects.filter(agent=agent, author=demo).exists():
                review_create(agent=agent, author=demo, rating=rating, body=body)

        self.stdout.write(
            self.style.SUCCESS(
                f"Demo catalog ready: {Agent.objects.count()} agents "
                f"({created_agents} new, {created_versions} new versions).\n"
                f"  user       demo@agentnexus.local\n"
                f"  developer  dev@agentnexus.local\n"
                f"  admin      admin@agentnexus.local (Django admin at /admin/)\n"
                f"  password for new demo accounts: {password}"
            )
        )
