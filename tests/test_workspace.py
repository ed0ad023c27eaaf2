import pytest

from generec.errors import WorkspaceError
from generec.types import User
from generec.workspace import DB_NAME, Workspace, fresh_workspace, workspace_stats


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


def test_stats_of_empty_workspace(workspace):
    s = workspace_stats(workspace)
    assert (s.users, s.items, s.interactions, s.media_files) == (0, 0, 0, 0)
