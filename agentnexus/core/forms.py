from django import forms

from agentnexus.core.errors import ApplicationError


def add_application_error(form: forms.Form, exc: ApplicationError) -> None:
    """Show a service's refusal on the form: beside the named fields, else at the top."""
    for name, problems in exc.fields.items():
        for problem in problems:
            form.add_error(name if name in form.fields else None, problem)
    if not exc.fields:
        form.add_error(None, exc.message)
