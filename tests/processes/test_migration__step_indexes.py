"""The migrated schema indexes the rows every step writes only as the models say.

Migration 0004 changes indexes by hand (concurrently, without touching the foreign keys),
so nothing else checks that what it leaves matches the models.
"""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def indexes(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, regexp_replace(indexdef, '^.* USING ', '') FROM pg_indexes "
            "WHERE tablename = %s",
            [table],
        )
        return dict(cursor.fetchall())


def test_migrations__leave_partial_job_indexes_and_no_covered_foreign_key_index():
    assert indexes("processes_job") == {
        "processes_job_pkey": "btree (id)",
        "processes_job_token_id_key": "btree (token_id)",
        "job_instance": "btree (instance_id)",
        "job_due": "btree (due_at) WHERE ((status)::text = 'scheduled'::text)",
        "job_leased": "btree (lease_expires_at) WHERE ((status)::text = 'running'::text)",
        "job_failed_recent": "btree (finished_at DESC) WHERE ((status)::text = 'failed'::text)",
        # Purging an instance's events checks no compensation job points at them.
        "job_compensates": "btree (compensates_id) WHERE (compensates_id IS NOT NULL)",
    }
    assert indexes("processes_token") == {
        "processes_token_pkey": "btree (id)",
        "token_instance_status": "btree (instance_id, status)",
        "token_loop_item": "btree (loop_id, status) WHERE (loop_id IS NOT NULL)",
    }
    assert indexes("processes_event") == {
        "processes_event_pkey": "btree (id)",
        "event_instance_order": "btree (instance_id, id)",
        "event_actor": "btree (actor_id) WHERE (actor_id IS NOT NULL)",
    }


def test_instance_indexes__none_names_a_column_every_step_changes():
    # Each step updates the instance's active_tokens, variables and updated_at: an index on
    # one of them makes every such update a non-HOT one (all the row's indexes rewritten).
    every_step = ("updated_at", "active_tokens", "variables")
    defs = indexes("processes_processinstance").values()
    assert not [d for d in defs if any(column in d for column in every_step)]
