"""Users, developer profiles and personal API tokens."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MinLengthValidator, RegexValidator
from django.db import models


class Theme(models.TextChoices):
    SYSTEM = "system", "Match my device"
    LIGHT = "light", "Light"
    DARK = "dark", "Dark"


class NotificationPreference(models.TextChoices):
    ALL = "all", "Everything: run results, purchases and product news"
    IMPORTANT = "important", "Only purchases, refunds and security notices"
    NONE = "none", "Nothing except security notices"


class Role(models.TextChoices):
    USER = "user", "User"
    DEVELOPER = "developer", "Agent developer"
    STAFF = "staff", "Staff"


class EmailUserManager(UserManager):
    """Users sign in with their email address; there is no username."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):  # type: ignore[override]
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email=None, password=None, **extra_fields):  # type: ignore[override]
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email=None, password=None, **extra_fields):  # type: ignore[override]
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A marketplace account. Its role follows from `is_staff` and a developer profile."""

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)
    display_name = models.CharField(
        max_length=50,
        blank=True,
        validators=[MinLengthValidator(2)],
        help_text="Shown on your reviews. 2 to 50 characters.",
    )
    theme = models.CharField(max_length=10, choices=Theme.choices, default=Theme.SYSTEM)
    notifications = models.CharField(
        "email notifications",
        max_length=10,
        choices=NotificationPreference.choices,
        default=NotificationPreference.IMPORTANT,
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = EmailUserManager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.email

    @property
    def role(self) -> Role:
        if self.is_staff:
            return Role.STAFF
        if hasattr(self, "developer_profile"):
            return Role.DEVELOPER
        return Role.USER

    @property
    def public_name(self) -> str:
        return self.display_name or self.email.split("@", 1)[0]


eth_address_validator = RegexValidator(
    r"^0x[0-9a-fA-F]{40}$", "Enter a 0x-prefixed 20-byte hex address (42 characters)."
)


class DeveloperProfile(models.Model):
    """An agent developer. Payouts go to `payout_address` once payments land (issue 5)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="developer_profile")
    display_name = models.CharField(max_length=80, validators=[MinLengthValidator(2)])
    slug = models.SlugField(max_length=80, unique=True)
    bio = models.TextField(blank=True)
    website = models.URLField(blank=True)
    payout_address = models.CharField(max_length=42, blank=True, validators=[eth_address_validator])
    verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 hash is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=60)
    prefix = models.CharField(
        max_length=12, db_index=True, help_text="First characters, to recognise it."
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
