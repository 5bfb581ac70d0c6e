"""test_verdicts (host tests): the harness's own parser of guest CHECK lines."""
import pytest

from wisptest import assert_checks, parse_checks


def test_all_pass():
    checks = assert_checks(["boot", "CHECK a PASS", "CHECK b PASS", "CHECKS DONE 2"],
                           expected=["a", "b"])
    assert set(checks) == {"a", "b"}


@pytest.mark.parametrize("lines,message", [
    (["CHECK a PASS", "CHECK b FAIL got 3, want 4", "CHECKS DONE 2"], "b: got 3, want 4"),
    (["CHECK a PASS"], "no 'CHECKS DONE'"),
    ([], "no 'CHECKS DONE'"),
    (["CHECK a PASS", "CHECKS DONE 2"], "CHECKS DONE 2, but 1"),
    (["CHECK a PASS", "CHECK a PASS", "CHECKS DONE 2"], "reported twice"),
    (["CHECKS DONE 0", "CHECKS DONE 0"], "printed twice"),
])
def test_failures_are_caught(lines, message):
    with pytest.raises(AssertionError, match=message):
        assert_checks(lines)


def test_expected_count_and_names():
    with pytest.raises(AssertionError, match="expected 3"):
        assert_checks(["CHECK a PASS", "CHECKS DONE 1"], expected=3)
    with pytest.raises(AssertionError, match="never reported"):
        assert_checks(["CHECK a PASS", "CHECKS DONE 1"], expected=["a", "b"])


def test_near_misses_are_not_verdicts():
    checks, done = parse_checks(["CHECK a PASSED", "check b PASS", " CHECK c PASS",
                                 "CHECKS DONE two", "CHECK d FAIL"])
    assert checks == {"d": ("FAIL", "")}
    assert done is None
