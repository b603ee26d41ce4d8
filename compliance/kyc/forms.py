from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone

from compliance.kyc.models import KycSubmission
from compliance.kyc.uploads import max_document_bytes, sniff_content_type


class KycVerificationForm(forms.Form):
    full_name = forms.CharField(label="Full legal name", max_length=200)
    date_of_birth = forms.DateField(
        label="Date of birth", widget=forms.DateInput(attrs={"type": "date"})
    )
    nationality = forms.CharField(
        label="Nationality",
        max_length=2,
        validators=[RegexValidator(r"^[A-Za-z]{2}$", "Use the two-letter country code.")],
        help_text="Two-letter country code, for example DE or US.",
    )
    address = forms.CharField(
        label="Address", max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    document_type = forms.ChoiceField(
        label="Document type", choices=KycSubmission.DocumentType.choices
    )
    document_number = forms.CharField(label="Document number", max_length=60)
    document_expiry = forms.DateField(
        label="Document expiry date", widget=forms.DateInput(attrs={"type": "date"})
    )
    document = forms.FileField(
        label="Document scan or photo",
        help_text="A JPEG or PNG image or a PDF.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}),
    )

    def clean_nationality(self) -> str:
        return self.cleaned_data["nationality"].upper()

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        if born >= timezone.now().date():
            raise forms.ValidationError("Enter your date of birth.")
        return born

    def clean_document(self):
        # Size and type from the content: the browser's name and content type are not trusted.
        upload = self.cleaned_data["document"]
        if upload.size > max_document_bytes():
            raise forms.ValidationError(
                f"The file is too large: upload at most {max_document_bytes() // (1024 * 1024)} MB."
            )
        upload.seek(0)
        if sniff_content_type(upload.read(16)) is None:
            raise forms.ValidationError("Upload a JPEG or PNG image or a PDF.")
        upload.seek(0)
        return upload


class KycReviewForm(forms.Form):
    """Staff decision in the admin review page."""

    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    level = forms.TypedChoiceField(
        coerce=int, choices=[(1, "Level 1"), (2, "Level 2"), (3, "Level 3")], required=False
    )
    reason = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
