"""Metrics against cases computed by hand."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from generec.evaluation.ranking import evaluate_ranking, ranking_metrics, top_k


def test_top_k_orders_best_first():
    scores = np.array([[0.1, 0.9, 0.5, 0.7]])
    assert top_k(scores, 3).tolist() == [[1, 3, 2]]


def test_hand_computed_metrics():
    # ranked list [5, 2, 9, 1]; relevant {2, 1, 7}: hits at ranks 2 and 4
    ranked = np.array([[5, 2, 9, 1]])
    m = ranking_metrics(ranked, [np.array([2, 1, 7])], ks=(2, 4))
    assert m["recall@2"][0] == pytest.approx(1 / 3)
    assert m["recall@4"][0] == pytest.approx(2 / 3)
    dcg4 = 1 / math.log2(3) + 1 / math.log2(5)
    idcg4 = 1 + 1 / math.log2(3) + 1 / math.log2(4)  # min(4, 3) = 3 ideal hits
    assert m["ndcg@4"][0] == pytest.approx(dcg4 / idcg4)
    assert m["ndcg@2"][0] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert m["hit@2"][0] == 1.0
    assert m["mrr@4"][0] == pytest.approx(0.5)


def test_no_hit_is_zero():
    m = ranking_metrics(np.array([[0, 1]]), [np.array([3])], ks=(2,))
    assert (m["recall@2"][0], m["ndcg@2"][0], m["hit@2"][0], m["mrr@2"][0]) == (0, 0, 0, 0)


def test_evaluate_excludes_training_items_and_averages_over_test_users():
    # 3 users x 5 items. user 0 trained on item 0 (excluded even though it scores best)
    train = sp.csr_matrix(np.array([[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 0, 0, 0]], np.float32))
    test = sp.csr_matrix(np.array([[0, 1, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]], np.float32))
    scores = np.array([[9, 8, 1, 1, 1], [0, 9, 1, 2, 3], [1, 1, 1, 1, 1]], np.float32)
    report = evaluate_ranking(lambda users: scores[users], train, test, ks=(1, 2))
    assert report.n_users == 2  # user 2 has no test items
    # user 0: item 0 masked -> top-1 is item 1, a hit. user 1: item 1 masked -> item 4, a hit.
    assert report.metrics["hit@1"] == 1.0 and report.metrics["ndcg@1"] == 1.0
    assert report.metrics["coverage@1"] == pytest.approx(2 / 5)
