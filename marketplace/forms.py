from decimal import Decimal

from django import forms

from marketplace.models import Category
from marketplace.selectors import CatalogQuery, Sort


class CatalogSearchForm(forms.Form):
    q = forms.CharField(
        label="Search agents",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    category = forms.ChoiceField(label="Category", required=False)
    min_price = forms.DecimalField(
        label="Min price", min_value=Decimal("0"), max_digits=18, decimal_places=6, required=False
    )
    max_price = forms.DecimalField(
        label="Max price", min_value=Decimal("0"), max_digits=18, decimal_places=6, required=False
    )
    sort = forms.ChoiceField(label="Sort by", choices=Sort.CHOICES, required=False)

    def __init__(self, *args, categories: list[Category], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "All categories")] + [
            (c.slug, c.name) for c in categories
        ]

    def clean(self) -> dict:
        data = super().clean()
        low, high = data.get("min_price"), data.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error("max_price", "Max price must be at least the min price.")
        return data

    def to_query(self) -> CatalogQuery:
        """The valid part of the search: an invalid filter is dropped, not the whole search."""
        data = self.cleaned_data if self.is_bound else {}
        valid = {name: data.get(name) for name in self.fields if name not in self.errors}
        return CatalogQuery(
            text=valid.get("q") or "",
            category=valid.get("category") or "",
            min_price=valid.get("min_price"),
            max_price=valid.get("max_price"),
            sort=valid.get("sort") or Sort.RELEVANCE,
        )


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="Your rating",
        coerce=int,
        choices=[(n, f"{n} star{'s' if n > 1 else ''}") for n in range(5, 0, -1)],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a rating from 1 to 5 stars."},
    )
    body = forms.CharField(
        label="Your review",
        min_length=3,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Write a few words about your experience."},
    )
