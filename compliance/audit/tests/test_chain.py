"""The audit chain: appends, immutability, and tampering made directly in the database."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, connections, transaction

from compliance.audit.models import GENESIS_HASH, AuditEntry, AuditEntryImmutableError
from compliance.audit.services import audit_record, verify_chain
from marketplace.tests.factories import AgentFactory, UserFactory

pytestmark = pytest.mark.django_db


def _make_chain(n: int = 5) -> list[AuditEntry]:
    return [
        audit_record(actor=None, action="test.event", data={"n": i, "amount": Decimal("1.50")})
        for i in range(1, n + 1)
    ]


def _raw(sql: str, params: list | None = None) -> None:
    """Tamper as someone with direct database access would: the append-only trigger off."""
    with connection.cursor() as cursor:
        # Fire the pending deferred FK checks first: ALTER TABLE refuses to run with them queued.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_auditentry_append_only")
        cursor.execute(sql, params or [])
        cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_auditentry_append_only")


def _verify_command() -> str:
    with pytest.raises(CommandError) as excinfo:
        call_command("audit_verify")
    assert excinfo.value.returncode == 1
    return str(excinfo.value)


def test_entries_chain_from_genesis_and_record_actor_and_object():
    user, agent = UserFactory(), AgentFactory()
    first = audit_record(actor=user, action="admin.change", obj=agent, data={"field": "status"})
    second = audit_record(actor="provider:sumsub", action="kyc.status", data={"to": "verified"})
    third = audit_record(actor=None, action="compliance.block")

    assert (first.seq, second.seq, third.seq) == (1, 2, 3)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert (first.actor, first.actor_label) == (user, f"user:{user.pk}")
    assert (first.object_type, first.object_id) == ("marketplace.agent", str(agent.pk))
    assert second.actor_label == "provider:sumsub" and third.actor_label == "system"
    assert third.data == {}
    report = verify_chain()
    assert report.ok and report.checked == 3 and report.head_hash == third.hash


def test_stored_data_verifies_after_reading_back():
    entry = audit_record(
        actor=None,
        action="test.types",
        data={"b": Decimal("10.25"), "a": [1, 2.5, "é", None], "nested": {"z": 1, "y": True}},
    )
    fresh = AuditEntry.objects.get(pk=entry.pk)
    assert fresh.data["b"] == "10.25"
    assert fresh.compute_hash() == entry.hash
    out = subprocess.run(  # noqa: S603 - the command under test, fixed arguments
        [sys.executable, "manage.py", "audit_verify", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0


def test_audit_verify_passes_on_an_intact_chain(capsys):
    entries = _make_chain(3)
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "intact: 3 entries" in out and f"3:{entries[-1].hash}" in out


def test_empty_chain_is_intact():
    assert verify_chain().ok
    call_command("audit_verify")


def test_the_app_refuses_updates_and_deletes():
    entry = _make_chain(1)[0]
    entry.action = "other"
    with pytest.raises(AuditEntryImmutableError):
        entry.save()
    with pytest.raises(AuditEntryImmutableError):
        entry.delete()
    with pytest.raises(AuditEntryImmutableError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="other")
    with pytest.raises(AuditEntryImmutableError):
        AuditEntry.objects.all().delete()


def test_the_database_refuses_raw_updates_and_deletes():
    entry = _make_chain(1)[0]
    for sql in (
        "UPDATE audit_auditentry SET action = 'x' WHERE id = %s",
        "DELETE FROM audit_auditentry WHERE id = %s",
    ):
        with (
            pytest.raises(IntegrityError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.event"


def test_deleting_the_actor_keeps_the_entry_and_the_chain():
    user = UserFactory()
    entry = audit_record(actor=user, action="test.event")
    user_id = user.pk
    user.delete()
    fresh = AuditEntry.objects.get(pk=entry.pk)
    assert fresh.actor is None and fresh.actor_label == f"user:{user_id}"
    assert verify_chain().ok


def test_an_edit_in_the_database_is_detected():
    _make_chain(5)
    _raw(
        "UPDATE audit_auditentry SET data = jsonb_set(data, '{n}', '99') WHERE seq = 3",
    )
    report = verify_chain()
    assert report.problem.seq == 3 and report.problem.kind == "edited"
    assert report.checked == 2
    assert "BROKEN at entry 3 (edited)" in _verify_command()


@pytest.mark.parametrize(
    "column, value",
    [("action", "'test.other'"), ("actor_label", "'user:1'"), ("created_at", "now()")],
)
def test_an_edit_of_any_hashed_column_is_detected(column, value):
    _make_chain(3)
    _raw(f"UPDATE audit_auditentry SET {column} = {value} WHERE seq = 2")  # noqa: S608
    problem = verify_chain().problem
    assert (problem.seq, problem.kind) == (2, "edited")


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link():
    entries = _make_chain(4)
    forged = AuditEntry.objects.get(seq=2)
    forged.data = {"n": 42}
    new_hash = forged.compute_hash()
    _raw(
        "UPDATE audit_auditentry SET data = %s::jsonb, hash = %s WHERE seq = 2",
        ['{"n": 42}', new_hash],
    )
    assert new_hash != entries[1].hash
    problem = verify_chain().problem
    assert (problem.seq, problem.kind) == (3, "deleted")
    assert "rewritten" in problem.message


def test_a_deletion_in_the_database_is_detected():
    _make_chain(5)
    _raw("DELETE FROM audit_auditentry WHERE seq = 3")
    problem = verify_chain().problem
    assert (problem.seq, problem.kind) == (4, "deleted")
    assert "entries 3–3 are missing" in problem.message
    assert "BROKEN at entry 4 (deleted)" in _verify_command()


def test_deleting_the_first_entry_is_detected():
    _make_chain(3)
    _raw("DELETE FROM audit_auditentry WHERE seq = 1")
    problem = verify_chain().problem
    assert (problem.seq, problem.kind) == (2, "deleted")


def test_a_deletion_with_renumbering_is_detected():
    _make_chain(5)
    _raw("DELETE FROM audit_auditentry WHERE seq = 3")
    # Close the gap (through free values: seq is unique, checked row by row).
    _raw("UPDATE audit_auditentry SET seq = seq + 1000 WHERE seq > 3")
    _raw("UPDATE audit_auditentry SET seq = seq - 1001 WHERE seq > 1000")
    problem = verify_chain().problem
    assert problem.seq == 3 and problem.kind in {"deleted", "edited"}
    _verify_command()


def test_a_reordering_in_the_database_is_detected():
    _make_chain(5)
    # Swap entries 2 and 3 by their sequence numbers (through a free value: seq is unique).
    _raw("UPDATE audit_auditentry SET seq = 1000 WHERE seq = 2")
    _raw("UPDATE audit_auditentry SET seq = 2 WHERE seq = 3")
    _raw("UPDATE audit_auditentry SET seq = 3 WHERE seq = 1000")
    problem = verify_chain().problem
    assert (problem.seq, problem.kind) == (2, "reordered")
    assert "prev_hash names entry 3" in problem.message
    assert "BROKEN at entry 2 (reordered)" in _verify_command()


def test_a_reordering_of_whole_rows_is_detected():
    """Swap everything but the sequence numbers: contents move, positions stay."""
    _make_chain(4)
    columns = ["created_at", "actor_label", "action", "object_type", "object_id", "data"]
    columns += ["prev_hash", "hash"]
    rows = {
        row["seq"]: row for row in AuditEntry.objects.filter(seq__in=[2, 3]).values("seq", *columns)
    }
    assignments = ", ".join(f"{column} = %s" for column in columns)
    # Through a placeholder hash first: the hash column is unique.
    _raw("UPDATE audit_auditentry SET hash = 'swap' WHERE seq = 2")
    for target, source in ((3, 2), (2, 3)):
        values = [rows[source][c] for c in columns]
        values[columns.index("data")] = json.dumps(values[columns.index("data")])
        _raw(f"UPDATE audit_auditentry SET {assignments} WHERE seq = %s", [*values, target])  # noqa: S608
    problem = verify_chain().problem
    assert (problem.seq, problem.kind) == (2, "reordered")


def test_removing_entries_from_the_end_needs_a_recorded_head():
    entries = _make_chain(4)
    head = (entries[-1].seq, entries[-1].hash)
    _raw("DELETE FROM audit_auditentry WHERE seq = 4")
    assert verify_chain().ok  # the chain alone cannot tell
    problem = verify_chain(expected_head=head).problem
    assert problem.kind == "deleted" and "removed from the end" in problem.message
    with pytest.raises(CommandError, match="removed from the end"):
        call_command("audit_verify", head=f"{head[0]}:{head[1]}")
    with pytest.raises(CommandError, match="SEQ:HASH"):
        call_command("audit_verify", head="nonsense")


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_valid_chain():
    threads_n, per_thread = 8, 10
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            barrier.wait()
            for j in range(per_thread):
                audit_record(actor=f"worker:{i}", action="test.concurrent", data={"j": j})
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    report = verify_chain()
    assert report.ok, report.problem
    assert report.checked == threads_n * per_thread
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, threads_n * per_thread + 1))
