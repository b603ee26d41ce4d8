"""Server-rendered catalog pages. Reads go through selectors, writes through services."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_POST

from agentnexus.core.errors import ApplicationError
from agentnexus.core.forms import add_application_error
from marketplace import selectors
from marketplace.catalog_cache import catalog_version
from marketplace.forms import CatalogSearchForm, ReviewForm
from marketplace.presentation import schema_fields
from marketplace.services import review_create, review_update

CATALOG_PAGE_SIZE = 12


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "marketplace/home.html",
        {
            "featured": selectors.agent_featured_list(limit=6),
            "categories": selectors.category_list_with_counts(),
        },
    )


def catalog(request: HttpRequest) -> HttpResponse:
    categories = selectors.category_list_with_counts()
    form = CatalogSearchForm(request.GET or None, categories=categories)
    if form.is_bound:
        form.is_valid()  # Errors are shown beside the fields; the valid filters still apply.
    query = form.to_query()
    fragment_cache_seconds = max(settings.CATALOG_CACHE_SECONDS, 0)
    # The version is read before the page: a fragment cached under it is never older than it.
    version = catalog_version() if fragment_cache_seconds else 0
    page = selectors.agent_search_page(
        query=query, page=request.GET.get("page"), per_page=CATALOG_PAGE_SIZE
    )
    params = request.GET.copy()
    params.pop("page", None)
    # The filter form and the card grid are the same for every visitor: the template caches
    # them under these keys, which hold everything their HTML depends on (besides the catalog
    # version, the links' script prefix and the language of numbers and messages). The form
    # shows the submitted values and their errors, the grid the normalised query's page.
    # Pagination and category links stay outside: they keep the request's own parameters.
    context = f"{get_language()}:{get_script_prefix()}"
    submitted = sorted((name, request.GET.getlist(name)) for name in form.fields)
    return render(
        request,
        "marketplace/catalog.html",
        {
            "form": form,
            "query": query,
            "page": page,
            "categories": categories,
            "querystring": params.urlencode(),
            "fragment_cache_seconds": fragment_cache_seconds,
            "filters_cache_key": f"{version}:{form.is_bound}:{submitted!r}:{context}",
            "grid_cache_key": f"{version}:{query!r}:{page.number}:{CATALOG_PAGE_SIZE}:{context}",
        },
    )


def _detail_context(request: HttpRequest, agent, review_form: ReviewForm | None = None) -> dict:
    version = agent.current_version
    own_review = selectors.review_of(agent=agent, user=request.user)
    if review_form is None and own_review is not None:
        review_form = ReviewForm(initial={"rating": own_review.rating, "body": own_review.body})
    reviews = Paginator(selectors.agent_reviews(agent=agent), 10).get_page(
        request.GET.get("reviews")
    )
    is_owner = request.user.is_authenticated and agent.developer.user_id == request.user.pk
    return {
        "agent": agent,
        "version": version,
        "input_fields": schema_fields(version.input_schema if version else None),
        "output_fields": schema_fields(version.output_schema if version else None),
        "stats": selectors.agent_run_stats(agent=agent),
        "reviews": reviews,
        "own_review": own_review,
        "review_form": review_form or ReviewForm(),
        "can_review": request.user.is_authenticated and not is_owner,
        "is_owner": is_owner,
        "versions": selectors.agent_versions(agent=agent)[:10],
    }


def agent_detail(request: HttpRequest, slug: str) -> HttpResponse:
    agent = selectors.agent_get(slug=slug)
    if agent is None:
        raise Http404("No agent with that name.")
    return render(request, "marketplace/agent_detail.html", _detail_context(request, agent))


@login_required
@require_POST
def review_submit(request: HttpRequest, slug: str) -> HttpResponse:
    agent = selectors.agent_get(slug=slug)
    if agent is None:
        raise Http404("No agent with that name.")
    form = ReviewForm(request.POST)
    if form.is_valid():
        own = selectors.review_of(agent=agent, user=request.user)
        data = form.cleaned_data
        try:
            if own is None:
                review_create(
                    agent=agent, author=request.user, rating=data["rating"], body=data["body"]
                )
                messages.success(request, "Thanks! Your review is published.")
            else:
                review_update(
                    review=own, author=request.user, rating=data["rating"], body=data["body"]
                )
                messages.success(request, "Your review is updated.")
            return redirect(f"{reverse('marketplace:agent_detail', args=[agent.slug])}#reviews")
        except ApplicationError as exc:
            add_application_error(form, exc)
    context = _detail_context(request, agent, review_form=form)
    return render(request, "marketplace/agent_detail.html", context, status=400)
