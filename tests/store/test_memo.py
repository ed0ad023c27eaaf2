"""`Database.memoised_reads` on both engines: a repeated read inside the scope is answered once,
a write transaction in the scope's thread forgets what was read, and nothing outside the scope
(or in another thread) is affected."""

import threading

from generec.types import User

COUNT = "SELECT COUNT(*) FROM users"


def _add_elsewhere(workspace, user_id: str) -> None:
    """A write on another thread's connection: invisible to this thread's memo, by design."""
    t = threading.Thread(target=lambda: workspace.users.add_many([User(user_id)]))
    t.start()
    t.join()


def test_a_repeated_read_in_the_scope_is_answered_once(workspace):
    workspace.users.add_many([User("a")])
    with workspace.db.memoised_reads():
        assert workspace.db.scalar(COUNT) == 1
        _add_elsewhere(workspace, "b")
        assert workspace.db.scalar(COUNT) == 1  # the first answer
        assert workspace.users.get("b") is not None  # another question is asked afresh
    assert workspace.db.scalar(COUNT) == 2  # outside the scope every read is fresh
    assert workspace.db.scalar(COUNT) == 2


def test_a_write_in_the_scope_forgets_what_was_read(workspace):
    with workspace.db.memoised_reads():
        assert workspace.db.scalar(COUNT) == 0
        assert workspace.users.get("a") is None
        workspace.users.add_many([User("a")])
        assert workspace.db.scalar(COUNT) == 1
        assert workspace.users.get("a") == User("a", workspace.users.get("a").created_at, {})


def test_a_nested_scope_keeps_the_outer_memo_and_ending_it_ends_nothing(workspace):
    workspace.users.add_many([User("a")])
    with workspace.db.memoised_reads():
        assert workspace.db.scalar(COUNT) == 1
        with workspace.db.memoised_reads():
            _add_elsewhere(workspace, "b")
            assert workspace.db.scalar(COUNT) == 1
        assert workspace.db.scalar(COUNT) == 1  # still the outer scope's answer
    assert workspace.db.scalar(COUNT) == 2


def test_each_caller_gets_its_own_list(workspace):
    workspace.users.add_many([User("b"), User("a")])
    sql = "SELECT id FROM users ORDER BY id"
    with workspace.db.memoised_reads():
        first = workspace.db.query(sql)
        first.clear()
        assert [row[0] for row in workspace.db.query(sql)] == ["a", "b"]


def test_reads_inside_a_transaction_are_not_memoised(workspace):
    with workspace.db.memoised_reads(), workspace.db.transaction():
        assert workspace.db.scalar(COUNT) == 0
        workspace.db.conn.execute("INSERT INTO users (id, created_at, attrs) VALUES (?, ?, ?)", ("a", 0.0, "{}"))
        assert workspace.db.scalar(COUNT) == 1
