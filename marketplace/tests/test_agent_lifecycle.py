"""Agent status and version lifecycle: the transition table, who may do what, the event rows, and
what users see (catalog, agent page, run form, developer dashboard, admin suspension)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agentnexus.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from compliance.audit.models import AuditEntry
from marketplace.models import AGENT_TRANSITIONS, Agent, AgentEvent
from marketplace.services import (
    agent_deprecate,
    agent_reactivate,
    agent_set_current_version,
    agent_suspend,
    agent_transition,
    agent_version_deprecate,
)
from marketplace.tests.factories import AgentFactory, AgentVersionFactory, UserFactory
from runtime.services import run_start

pytestmark = pytest.mark.django_db

FREE_INPUT = {"text": "hello"}


@pytest.fixture
def agent():
    agent = AgentFactory(price=None)
    version = AgentVersionFactory(agent=agent, version="1.0.0", price=0)
    agent_set_current_version(agent=agent, version=version)
    return agent


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


def test_every_status_has_a_row_in_the_transition_table():
    assert set(AGENT_TRANSITIONS) == set(Agent.Status.values)
    for status, targets in AGENT_TRANSITIONS.items():
        assert status not in targets and targets <= set(Agent.Status.values)


def test_developer_deprecates_and_reactivates_with_events(agent):
    developer = agent.developer.user
    agent_deprecate(agent=agent, by=developer, reason="Use the v2 agent.")
    agent.refresh_from_db()
    assert agent.status == Agent.Status.DEPRECATED and agent.status_reason == "Use the v2 agent."
    assert not agent.is_listed
    agent_transition(agent=agent, to=Agent.Status.ACTIVE, actor=developer)
    events = list(AgentEvent.objects.filter(agent=agent).values_list("from_status", "to_status"))
    assert events == [("active", "deprecated"), ("deprecated", "active")]
    assert Agent.objects.get(pk=agent.pk).status_reason == ""


def test_only_staff_suspend_and_lift_suspensions(agent, staff):
    developer = agent.developer.user
    with pytest.raises(PermissionDeniedError):
        agent_suspend(agent=agent, by=developer, reason="x")
    with pytest.raises(PermissionDeniedError):
        agent_transition(agent=agent, to=Agent.Status.SUSPENDED, actor=developer, reason="x")
    with pytest.raises(ApplicationError) as no_reason:
        agent_suspend(agent=agent, by=staff, reason="  ")
    assert "reason" in no_reason.value.fields
    agent_suspend(agent=agent, by=staff, reason="Malware reported.")
    with pytest.raises(PermissionDeniedError, match="only staff can lift"):
        agent_transition(agent=agent, to=Agent.Status.ACTIVE, actor=developer)
    with pytest.raises(PermissionDeniedError):
        agent_deprecate(agent=agent, by=developer)
    with pytest.raises(ConflictError) as through_deprecated:
        # Deprecated agents can be reactivated by their developer: no way around a suspension.
        agent_transition(agent=agent, to=Agent.Status.DEPRECATED, actor=staff)
    assert through_deprecated.value.code == "invalid_transition"
    with pytest.raises(ConflictError) as again:
        agent_suspend(agent=agent, by=staff, reason="Twice.")
    assert again.value.code == "already_suspended"
    assert AuditEntry.objects.filter(action="marketplace.agent.status").count() == 1
    agent_reactivate(agent=agent, by=staff)
    assert Agent.objects.get(pk=agent.pk).status == Agent.Status.ACTIVE


def test_other_developers_cannot_touch_an_agent(agent):
    stranger = AgentFactory().developer.user
    with pytest.raises(PermissionDeniedError):
        agent_deprecate(agent=agent, by=stranger)
    with pytest.raises(PermissionDeniedError):
        agent_version_deprecate(version=agent.current_version, by=stranger)


def test_a_suspended_agent_refuses_runs_with_its_reason(agent, staff):
    user = UserFactory()
    agent_suspend(agent=agent, by=staff, reason="Under investigation.")
    agent.refresh_from_db()
    with pytest.raises(ConflictError) as refused:
        run_start(user=user, agent=agent, data=FREE_INPUT)
    assert refused.value.code == "agent_suspended"
    assert "suspended" in refused.value.message and "Under investigation." in refused.value.message


def test_a_deprecated_free_agent_refuses_runs(agent):
    agent_deprecate(agent=agent, by=agent.developer.user)
    agent.refresh_from_db()
    with pytest.raises(ConflictError) as refused:
        run_start(user=UserFactory(), agent=agent, data=FREE_INPUT)
    assert refused.value.code == "agent_deprecated"


def test_version_deprecation(agent):
    developer = agent.developer.user
    old = agent.current_version
    with pytest.raises(ConflictError) as current:
        agent_version_deprecate(version=old, by=developer)
    assert current.value.code == "current_version"
    new = AgentVersionFactory(agent=agent, version="1.1.0", price=0)
    agent_set_current_version(agent=agent, version=new)
    agent_version_deprecate(version=old, by=developer, reason="Security fix in 1.1.0")
    old.refresh_from_db()
    assert old.is_deprecated
    assert agent_version_deprecate(version=old, by=developer).deprecated_at == old.deprecated_at
    event = AgentEvent.objects.get(kind=AgentEvent.Kind.VERSION_DEPRECATED)
    assert event.version == old and event.reason == "Security fix in 1.1.0"
    with pytest.raises(ConflictError) as refused:
        run_start(user=UserFactory(), agent=agent, data=FREE_INPUT, version=old)
    assert refused.value.code == "version_deprecated"
    run, _ = run_start(user=UserFactory(), agent=agent, data=FREE_INPUT)
    assert run.version == new


def test_suspended_and_deprecated_agents_leave_the_catalog_but_keep_their_page(
    client, agent, staff
):
    assert agent.slug.encode() in client.get("/marketplace/").content
    agent_suspend(agent=agent, by=staff, reason="Reported.")
    assert agent.slug.encode() not in client.get("/marketplace/").content
    page = client.get(f"/marketplace/{agent.slug}/")
    assert page.status_code == 200
    assert b"suspended by AgentNexus" in page.content and b"Reported." in page.content
    assert b"Run this agent" not in page.content


def test_the_run_form_explains_why_it_is_disabled(client, agent, staff):
    client.force_login(UserFactory())
    agent_suspend(agent=agent, by=staff, reason="Reported.")
    page = client.get(reverse("runtime:run_new", args=[agent.slug]))
    assert b"suspended by AgentNexus" in page.content
    assert b"disabled>Start run" in page.content


def test_developer_deprecates_from_the_dashboard(client, agent):
    client.force_login(agent.developer.user)
    dashboard = client.get("/developer/")
    url = reverse("developer:agent_deprecate", args=[agent.slug])
    assert url.encode() in dashboard.content
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": "Replaced by a better agent."})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.status == Agent.Status.DEPRECATED
    reactivate = reverse("developer:agent_reactivate", args=[agent.slug])
    assert reactivate.encode() in client.get("/developer/").content
    client.post(reactivate)
    agent.refresh_from_db()
    assert agent.status == Agent.Status.ACTIVE
    client.force_login(UserFactory())
    assert client.post(url).status_code in (302, 404), "another user cannot deprecate it"
    agent.refresh_from_db()
    assert agent.status == Agent.Status.ACTIVE


def test_developer_deprecates_an_old_version_but_not_the_current_one(client, agent):
    old = agent.current_version
    client.force_login(agent.developer.user)
    refused = client.post(reverse("developer:version_deprecate", args=[agent.slug, old.version]))
    assert refused.status_code == 400 and b"current version" in refused.content
    new = AgentVersionFactory(agent=agent, version="2.0.0", price=0)
    agent_set_current_version(agent=agent, version=new)
    done = client.post(reverse("developer:version_deprecate", args=[agent.slug, old.version]))
    assert done.status_code == 302
    old.refresh_from_db()
    assert old.is_deprecated


def test_admin_suspends_with_a_reason_and_lifts_it(client, agent, staff):
    client.force_login(staff)
    change = reverse("admin:marketplace_agent_change", args=[agent.pk])
    suspend = reverse("admin:marketplace_agent_suspend", args=[agent.pk])
    assert suspend.encode() in client.get(change).content
    missing = client.post(suspend, {"reason": ""})
    assert missing.status_code == 200 and b"This field is required" in missing.content
    assert client.post(suspend, {"reason": "Exfiltrates inputs."}).status_code == 302
    agent.refresh_from_db()
    assert agent.status == Agent.Status.SUSPENDED and agent.status_reason == "Exfiltrates inputs."
    page = client.get(change)
    assert b"Lift suspension" in page.content and b"Exfiltrates inputs." in page.content
    client.post(reverse("admin:marketplace_agent_reinstate", args=[agent.pk]))
    agent.refresh_from_db()
    assert agent.status == Agent.Status.ACTIVE


def test_admin_bulk_actions_go_through_the_state_machine(client, agent, staff):
    client.force_login(staff)
    response = client.post(
        reverse("admin:marketplace_agent_changelist"),
        {"action": "set_deprecated", "_selected_action": [agent.pk]},
    )
    assert response.status_code == 302
    assert AgentEvent.objects.filter(agent=agent, to_status="deprecated", actor=staff).exists()


def test_a_run_queued_as_the_suspension_commits_is_canceled_at_admission(agent, staff):
    from runtime.models import FailureReason, Run, RunStatus
    from runtime.services import runs_admit

    run, _ = run_start(user=UserFactory(), agent=agent, data=FREE_INPUT)
    # The race: the suspension committed after this run's availability check, and its run
    # stopping did not see the run yet. Admission is the last line.
    Agent.objects.filter(pk=agent.pk).update(status=Agent.Status.SUSPENDED)
    assert runs_admit(agent_id=agent.pk) == []
    run.refresh_from_db()
    assert (run.status, run.failure_reason) == (RunStatus.CANCELED, FailureReason.AGENT_SUSPENDED)
    assert not Run.objects.filter(status=RunStatus.STARTING).exists()


def test_view_only_staff_cannot_change_status_in_bulk(client, agent):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_agent"))
    client.force_login(viewer)
    response = client.post(
        reverse("admin:marketplace_agent_changelist"),
        {"action": "set_deprecated", "_selected_action": [agent.pk]},
    )
    assert response.status_code in (200, 302, 403)
    agent.refresh_from_db()
    assert agent.status == Agent.Status.ACTIVE
    assert (
        client.get(reverse("admin:marketplace_agent_suspend", args=[agent.pk])).status_code == 403
    )
    assert client.get(reverse("admin:marketplace_agent_suspend", args=["nope"])).status_code == 404
