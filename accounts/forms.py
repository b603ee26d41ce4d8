from django import forms

from accounts.models import User, eth_address_validator


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "theme", "notifications"]
        widgets = {"theme": forms.RadioSelect, "notifications": forms.RadioSelect}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["display_name"].required = True
        self.fields["display_name"].min_length = 2
        self.fields["display_name"].error_messages["min_length"] = (
            "Use at least 2 characters for your display name."
        )


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=60,
        help_text="What will use it, for example “CI pipeline”.",
    )


class DeveloperProfileForm(forms.Form):
    display_name = forms.CharField(label="Developer name", min_length=2, max_length=80)
    payout_address = forms.CharField(
        label="Payout address",
        required=False,
        max_length=42,
        validators=[eth_address_validator],
        help_text="Where your earnings will be paid (0x…). You can add it later.",
    )

    def __init__(self, *args, **kwargs) -> None:
        # Shares the profile page with ProfileForm, which also has a display_name: distinct ids.
        kwargs.setdefault("auto_id", "developer_%s")
        super().__init__(*args, **kwargs)
