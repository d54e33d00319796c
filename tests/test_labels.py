import numpy as np
import pytest

from tfgan import labels


def test_class_rows_gives_one_row_per_class():
    np.testing.assert_array_equal(labels.class_rows(3, 2), [0, 0, 1, 1, 2, 2])
    assert labels.class_rows(3, 2).dtype == np.int32


def test_balanced_labels_give_every_class_its_share():
    np.testing.assert_array_equal(labels.balanced_labels(7, 3), [0, 1, 2, 0, 1, 2, 0])
    assert np.bincount(labels.balanced_labels(1000, 10)).tolist() == [100] * 10


@pytest.mark.parametrize("text, expected", [
    ("7,7,3", [7, 7, 3]),
    (" 1, 0 ", [1, 0]),
    ("all", [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]),
])
def test_parse_labels_reads_indices_and_all(text, expected):
    np.testing.assert_array_equal(labels.parse_labels(text, [str(k) for k in range(10)], 2),
                                  expected)


def test_parse_labels_reads_class_names():
    np.testing.assert_array_equal(labels.parse_labels("dog,cat", ["cat", "dog"]), [1, 0])


@pytest.mark.parametrize("text", ["10", "-1", "x", "", "3,,4"])
def test_parse_labels_refuses_what_is_not_a_class(text):
    with pytest.raises(ValueError, match=r"Received: labels="):
        labels.parse_labels(text, [str(k) for k in range(10)])


def test_parse_labels_without_known_classes_reads_indices_only():
    np.testing.assert_array_equal(labels.parse_labels("12,0", None), [12, 0])
    with pytest.raises(ValueError, match=r"'all' needs the model's classes"):
        labels.parse_labels("all", None)
    with pytest.raises(ValueError, match=r"class indices, or the list 'all'"):
        labels.parse_labels("seven", None)
