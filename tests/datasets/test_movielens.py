import pytest

from generec.datasets.movielens import find_ml100k, load_movielens
from generec.errors import InputError


def test_load_movielens_100k(workspace):
    report = load_movielens(workspace)
    assert (report.n_users, report.n_items, report.n_interactions) == (943, 1682, 100_000)
    frame = workspace.interactions.frame()
    assert set(frame.event) == {"rate"}
    assert frame.value.between(1, 5).all()
    assert frame.groupby("user_id").size().min() >= 20  # every ML-100k user rated at least 20 movies
    toy = workspace.items.get("1")
    assert toy.title == "Toy Story" and "Animation" in toy.tags and "1995" in toy.text
    assert workspace.users.get("1").attrs["occupation"] == "technician"


def test_load_refuses_non_empty_workspace(workspace):
    load_movielens(workspace)
    with pytest.raises(InputError, match="already holds data"):
        load_movielens(workspace)


def test_data_files_come_from_the_recbole_wheel():
    assert find_ml100k().parts[-3:] == ("recbole", "dataset_example", "ml-100k")
