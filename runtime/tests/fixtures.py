"""The runtime image fixtures for tests outside runtime/ (the browser tests), as a plugin."""

from runtime.tests.conftest import (  # noqa: F401 - re-exported fixtures
    example_images,
    misbehave_image,
    misbehave_images,
    runtime_images,
)
