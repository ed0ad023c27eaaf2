import pytest

from generec.errors import InputError, WorkspaceError
from generec.store.schema import SCHEMA_VERSION
from generec.types import Event, Interaction, Item, Kind, User
from generec.workspace import DB_NAME, SUBDIRS, Workspace, fresh_workspace, holds_workspace, workspace_stats


def test_open_missing_workspace_is_a_clear_error(tmp_path):
    with pytest.raises(WorkspaceError, match="no workspace at"):
        Workspace.open(tmp_path / "none")


def test_layout(workspace):
    for sub in ("media", "features", "models", "reports"):
        assert (workspace.root / sub).is_dir()
    assert (workspace.root / DB_NAME).is_file()


def test_fresh_workspace_appears_only_on_success(tmp_path):
    root = tmp_path / "ws"
    with pytest.raises(RuntimeError):
        with fresh_workspace(root) as ws:
            ws.users.add_many([User("a")])
            raise RuntimeError("boom")
    assert not root.exists()
    assert list(tmp_path.iterdir()) == []  # no temp dir left behind
    with fresh_workspace(root) as ws:
        ws.users.add_many([User("a")])
    with Workspace.open(root) as ws:
        assert ws.users.ids() == ["a"]


def test_fresh_workspace_refuses_existing_unless_overwrite(tmp_path):
    root = tmp_path / "ws"
    with fresh_workspace(root) as ws:
        ws.users.add_many([User("old")])
    with pytest.raises(WorkspaceError, match="--overwrite"):
        with fresh_workspace(root):
            pass
    with pytest.raises(RuntimeError):  # a failed overwrite keeps the old workspace
        with fresh_workspace(root, overwrite=True) as ws:
            raise RuntimeError
    with Workspace.open(root) as ws:
        assert ws.users.ids() == ["old"]
    with fresh_workspace(root, overwrite=True) as ws:
        ws.users.add_many([User("new")])
    with Workspace.open(root) as ws:
        assert ws.users.ids() == ["new"]


def test_refuses_non_workspace_directory(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "thesis.tex").write_text("x")
    with pytest.raises(WorkspaceError, match="not a workspace"):
        with fresh_workspace(tmp_path / "docs", overwrite=True):
            pass
    assert (tmp_path / "docs" / "thesis.tex").read_text() == "x"


def test_a_corrupt_database_is_refused_changing_nothing(tmp_path):
    # `generec data stats -w ro` on a workspace whose generec.db is one byte: no fresh schema, no folders.
    root = tmp_path / "ro"
    root.mkdir()
    (root / DB_NAME).write_bytes(b"x")
    for create in (False, True):
        with pytest.raises(WorkspaceError, match=f"{DB_NAME} is not a readable generec database"):
            Workspace.open(root, create=create)
    assert [p.name for p in root.iterdir()] == [DB_NAME] and (root / DB_NAME).read_bytes() == b"x"


def test_stats_of_empty_workspace(workspace):
    s = workspace_stats(workspace)
    assert (s.users, s.items, s.interactions, s.media_files) == (0, 0, 0, 0)


def test_lock_file_exists_from_the_start(workspace):
    from generec.workspace import LOCK_NAME

    assert (workspace.root / LOCK_NAME).is_file()  # so taking the lock later changes no file


def test_lock_is_exclusive_between_workspaces_and_reentrant_within_one(workspace):
    with Workspace.open(workspace.root) as other:
        with workspace.lock("first"):
            with workspace.lock("nested"):  # the same object: joins the outer hold
                pass
            with pytest.raises(WorkspaceError, match="is busy"):
                with other.lock("second", timeout_s=0.2):
                    pass
        with other.lock("second", timeout_s=0.2):
            pass


def test_a_subfolder_that_is_a_file(tmp_path):
    root = tmp_path / "ws"
    Workspace.open(root, create=True).close()
    (root / "media").rmdir()
    (root / "media").write_text("not a folder")
    with pytest.raises(WorkspaceError, match="media exists and is not a directory"):
        Workspace.open(root)


_CREATE = """
import os, sys, time
from generec.workspace import Workspace
print("ready", flush=True)
while not os.path.exists(sys.argv[1]):  # all processes go at the same moment
    time.sleep(0.001)
Workspace.open(sys.argv[2], create=True).close()
"""


def test_two_processes_create_one_workspace_at_once(tmp_path):
    import subprocess
    import sys

    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", _CREATE, str(go), str(tmp_path / "ws")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    go.touch()
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    with Workspace.open(tmp_path / "ws") as ws:
        assert ws.db.version >= 1 and ws.users.count() == 0


def test_a_workspace_on_postgresql_from_the_environment(postgres, tmp_path, monkeypatch):
    monkeypatch.setenv("GENEREC_DB", postgres.new_database())
    with Workspace.open(tmp_path / "ws", create=True) as ws:
        assert ws.db.engine == "postgresql" and sorted(p.name for p in ws.root.iterdir()) == sorted([*SUBDIRS, "generec.lock"])
        ws.users.add_many([User("u1"), User("u2")])
        ws.items.add_many([Item("i1", Kind.TEXT), Item("i2", Kind.TEXT)])
        ws.interactions.add_many([Interaction("u1", "i1", 1.0, Event.CLICK)] * 2 + [Interaction("u2", "i2", 2.0, Event.LIKE)])
        stats = workspace_stats(ws)
        assert (stats.schema_version, stats.users, stats.interactions, stats.density) == (SCHEMA_VERSION, 2, 3, 0.5)
    assert holds_workspace(tmp_path / "ws") and not holds_workspace(tmp_path / "ws", db="sqlite")
    with pytest.raises(WorkspaceError, match="no workspace at"):  # "sqlite": the directory's own generec.db, whatever the environment says
        Workspace.open(tmp_path / "ws", db="sqlite")
    monkeypatch.setenv("GENEREC_DB", "oracle://scott:tiger@host/db")
    with pytest.raises(InputError, match="'oracle://scott@host/db' .*expected a postgresql://user@host/dbname URL"):
        Workspace.open(tmp_path / "ws")


def test_fresh_workspace_on_postgresql_commits_only_on_success(postgres, tmp_path):
    url, root = postgres.new_database(), tmp_path / "ws"

    def ids() -> list[str]:
        with Workspace.open(root, db=url) as ws:
            return ws.users.ids()

    with pytest.raises(RuntimeError):
        with fresh_workspace(root, db=url) as ws:
            ws.users.add_many([User("u1")])
            raise RuntimeError("the build failed")
    assert list(tmp_path.iterdir()) == [] and not holds_workspace(root, db=url)
    with fresh_workspace(root, db=url) as ws:
        ws.users.add_many([User("u1")])
        ws.api_keys.create("u1")
    assert ids() == ["u1"] and (root / "media").is_dir()
    with pytest.raises(WorkspaceError, match="already holds a workspace; pass --overwrite"):
        with fresh_workspace(root, db=url):
            pass
    with pytest.raises(WorkspaceError, match=r"postgresql://postgres@/generec\?.* already holds a workspace; pass --overwrite"):
        with fresh_workspace(tmp_path / "other", db=url):  # a new directory, the same database
            pass
    with pytest.raises(RuntimeError):  # replacing, and failing: the old rows stay
        with fresh_workspace(root, overwrite=True, db=url) as ws:
            ws.users.add_many([User("u2")])
            raise RuntimeError("the build failed")
    assert ids() == ["u1"]
    with fresh_workspace(root, overwrite=True, db=url) as ws:
        ws.users.add_many([User("u2")])
    assert ids() == ["u2"] and sorted(p.name for p in tmp_path.iterdir()) == ["ws"]
    with Workspace.open(root, db=url) as ws:
        assert ws.api_keys.count() == 0
