"""scripts/check_conditional.py: issue 30's five routes, on a conditional model made here.

The model is `digit_fixtures`' lookup table of real digits exported by `tfgan.export`, so the
committed classifier must name each requested digit through every route: REST, gRPC,
tfgan-sample, `tf.saved_model.load` without tfgan, and the TF1 session loader.
"""

import pytest

import scripts_path  # noqa: F401  (scripts/ importable)
import check_conditional
from digit_fixtures import export_digit_table

LABELS = list(range(10))


@pytest.fixture(scope="module")
def judge():
    return check_conditional.digit_judge()


def test_every_route_gives_the_digits_asked_for_in_order(tmp_path, capsys, monkeypatch):
    export_digit_table(tmp_path / "export", "digits")
    monkeypatch.chdir(tmp_path)  # the export named as the docs name it, relative
    with pytest.raises(SystemExit) as caught:
        check_conditional.run(["check_conditional.py", "--export_dir=export",
                               "--model_name=digits", "--seed=3"])
    out = capsys.readouterr().out.splitlines()
    assert caught.value.code in (None, 0), "\n".join(out)
    routes = [name for name, _, _ in check_conditional.ROUTES]
    assert len(routes) == 5
    for name in routes:
        line = next(line for line in out if line.startswith(name + " "))
        assert line.split()[-11:] == [*map(str, LABELS), "ok"], line
    assert out[-1] == ("the same samples from REST, gRPC, tfgan-sample, tf.saved_model.load "
                       "(no tfgan) (signature sample, seed 3)")


def test_a_model_that_draws_other_digits_is_a_mismatch(tmp_path, judge):
    model_dir = export_digit_table(tmp_path, "shifted", shift=1)
    target = check_conditional.Target("shifted", f"{model_dir}/1", rest_url="", grpc_url="")
    session_loader = [route for route in check_conditional.ROUTES
                      if route[0] == "TF1 session loader"]
    results = check_conditional.judge_routes(target, LABELS, 0, judge, session_loader)
    assert results[0].judged == [*range(1, 10), 0]
    lines, ok = check_conditional.report(results, LABELS, 0)
    assert not ok
    assert lines[-1].endswith("1 2 3 4 5 6 7 8 9 0  MISMATCH")


def test_a_route_that_fails_is_said_and_fails_the_check(judge):
    def unreachable(target, labels, seed):
        raise ConnectionRefusedError("nobody listens")

    target = check_conditional.Target("digits", "", rest_url="", grpc_url="")
    results = check_conditional.judge_routes(target, LABELS, 0, judge,
                                             [("REST", unreachable, "sample")])
    lines, ok = check_conditional.report(results, LABELS, 0)
    assert not ok
    assert lines[-1] == "REST   FAILED: ConnectionRefusedError: nobody listens"
