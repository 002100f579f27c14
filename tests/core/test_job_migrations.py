"""Moving the job models onto core.jobs.BackgroundJob keeps their rows: ExportJob's "pending" is "queued"."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import CycleFactory

BEFORE = ("findings", "0001_add_actions_report_share_exports")
AFTER = ("findings", "0002_export_job_background_job")


def _migrate(target: tuple[str, str]):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    executor.loader.build_graph()
    return executor.loader.project_state([target]).apps


@pytest.mark.django_db(transaction=True)
def test_pending_exports_become_queued_and_every_row_is_kept():
    cycle = CycleFactory()
    try:
        old = _migrate(BEFORE).get_model("findings", "ExportJob")
        for status in ("pending", "running", "done", "failed"):
            old.objects.create(cycle_id=cycle.pk, kind="workbook", status=status, progress=40)

        new = _migrate(AFTER).get_model("findings", "ExportJob")
        rows = sorted(new.objects.values_list("status", "progress", "progress_note", "heartbeat_at"))
        assert rows == [
            ("done", 40, "", None),
            ("failed", 40, "", None),
            ("queued", 40, "", None),
            ("running", 40, "", None),
        ]

        # And back: "queued" is "pending" again.
        back = _migrate(BEFORE).get_model("findings", "ExportJob")
        assert sorted(back.objects.values_list("status", flat=True)) == ["done", "failed", "pending", "running"]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
