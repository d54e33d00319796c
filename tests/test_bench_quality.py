"""scripts/bench_quality.py: turns that never overlap, clocks that count only training, the
time to reach the plain script's score, and one tiny run end to end."""

import json
import os
import sys

import pytest

from script_fixtures import ROOT, write_random_mnist

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import bench_quality  # noqa: E402

SCORING_SECONDS = 100.0  # what the fake clock moves during each scoring


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class FakeContender:
    """Steps of `step_seconds` on the fake clock; each step recorded as an event."""

    def __init__(self, name, clock, events, step_seconds, total_steps=None, fail_at=None):
        self.name, self.clock, self.events = name, clock, events
        self.step_seconds, self.total_steps, self.fail_at = step_seconds, total_steps, fail_at
        self.steps = 0

    def train(self, turn):
        while True:
            if self.steps == self.fail_at:
                raise RuntimeError(f"{self.name} failed")
            self.events.append(("step", self.name))
            self.clock.now += self.step_seconds
            self.steps += 1
            if self.steps == self.total_steps or not turn.between_steps():
                return


def _race(contenders, clock, events, budget=10.0, slice_seconds=3.0, score_every=4.0):
    def score(contender):
        clock.now += SCORING_SECONDS
        return {"steps_seen": contender.steps}

    return bench_quality.share_machine(
        contenders, budget_seconds=budget, slice_seconds=slice_seconds,
        score_every_seconds=score_every, score=score, clock=clock,
        on_event=lambda kind, name: events.append((kind, name)))


def _assert_one_at_a_time(events):
    """Every step lies inside its own contender's turn; turns never overlap; scoring happens
    between turns."""
    current = None
    for kind, name in events:
        if kind == "resume":
            assert current is None, events
            current = name
        elif kind == "pause":
            assert current == name, events
            current = None
        elif kind == "step":
            assert current == name, events
        else:
            assert kind == "score" and current is None, events


def test_contenders_take_turns_and_their_clocks_count_only_their_own_steps():
    clock, events = FakeClock(), []
    fast = FakeContender("fast", clock, events, step_seconds=1.0)
    slow = FakeContender("slow", clock, events, step_seconds=1.5)
    curves = _race([fast, slow], clock, events)

    _assert_one_at_a_time(events)
    assert {name for kind, name in events if kind == "step"} == {"fast", "slow"}
    # Scored at the first step past every 4 s of its own training, and at the 10 s budget,
    # where it was stopped; the other's turns and the scorings (100 s each) are not counted.
    assert [p["training_seconds"] for p in curves["fast"]] == [4.0, 8.0, 10.0]
    assert [p["training_seconds"] for p in curves["slow"]] == [4.5, 9.0, 10.5]
    for contender in (fast, slow):
        for point in curves[contender.name]:
            assert point["training_seconds"] == point["steps"] * contender.step_seconds
            assert point["steps_seen"] == point["steps"]
    assert (fast.steps, slow.steps) == (10, 7)
    assert clock.now == 10 + 10.5 + 6 * SCORING_SECONDS


def test_the_contender_behind_goes_next():
    clock, events = FakeClock(), []
    # The first step overruns its turn (a compilation, say): the other catches up first.
    slow_start = FakeContender("slow_start", clock, events, step_seconds=5.0)
    steady = FakeContender("steady", clock, events, step_seconds=1.0)
    _race([slow_start, steady], clock, events, budget=6.0, slice_seconds=2.0,
          score_every=100.0)
    steps = [name for kind, name in events if kind == "step"]
    assert steps == ["slow_start"] + ["steady"] * 6 + ["slow_start"]


def test_a_contender_that_finishes_early_is_scored_at_its_end_and_the_other_goes_on():
    clock, events = FakeClock(), []
    short = FakeContender("short", clock, events, step_seconds=1.0, total_steps=3)
    full = FakeContender("full", clock, events, step_seconds=1.0)
    curves = _race([short, full], clock, events)
    _assert_one_at_a_time(events)
    assert [p["training_seconds"] for p in curves["short"]] == [3.0]
    assert [p["training_seconds"] for p in curves["full"]] == [4.0, 8.0, 10.0]


def test_a_failing_contender_raises_and_the_other_is_stopped():
    clock, events = FakeClock(), []
    broken = FakeContender("broken", clock, events, step_seconds=1.0, fail_at=2)
    other = FakeContender("other", clock, events, step_seconds=1.0)
    with pytest.raises(RuntimeError, match="broken failed"):
        _race([broken, other], clock, events)
    _assert_one_at_a_time(events)


CURVE = [
    {"training_seconds": 60.2, "classifier_score": 5.0, "frechet_distance": 20.0},
    {"training_seconds": 120.1, "classifier_score": 7.1, "frechet_distance": 6.0},
    {"training_seconds": 180.4, "classifier_score": float("nan"), "frechet_distance": 4.0},
    {"training_seconds": 240.0, "classifier_score": 7.4, "frechet_distance": 5.0},
]


@pytest.mark.parametrize("target, metric, higher, expected", [
    (7.0, "classifier_score", True, 120.1),    # the first point at or past it
    (7.1, "classifier_score", True, 120.1),    # equal counts
    (7.3, "classifier_score", True, 240.0),    # NaN never reaches
    (9.0, "classifier_score", True, None),     # never
    (4.9, "classifier_score", True, 60.2),
    (5.5, "frechet_distance", False, 180.4),   # lower is better
    (3.0, "frechet_distance", False, None),
])
def test_time_to_reach(target, metric, higher, expected):
    assert bench_quality.time_to_reach(CURVE, target, metric, higher) == expected


def test_time_to_reach_on_an_empty_curve_is_none():
    assert bench_quality.time_to_reach([], 1.0) is None


def _run(tmp_path, *args):
    bench_quality.FLAGS.unparse_flags()
    bench_quality.FLAGS(["bench_quality.py", *args])
    try:
        bench_quality.main([])
    finally:
        bench_quality.FLAGS.unparse_flags()


def test_a_tiny_run_writes_both_sections_curves_and_the_plot(tmp_path, capsys):
    write_random_mnist(tmp_path / "mnist.npz", num_train=256, num_test=32)
    out = tmp_path / "runs" / "quality.json"
    _run(tmp_path, f"--mnist_path={tmp_path / 'mnist.npz'}", f"--out={out}",
         "--preset=mnist_mlp", "--conditional_preset=mnist_mlp_conditional",
         "--budget_seconds=0.001", "--conditional_budget_seconds=0.001",
         "--num_samples=32", "--plain_width=4",
         "--noplain_jit_compile")  # XLA's compilation is slow; the docs walk runs it
    results = json.loads(out.read_text())
    assert [s["section"] for s in results["sections"]] == ["unconditional", "conditional"]
    names = [[c["name"] for c in s["contenders"]] for s in results["sections"]]
    assert names == [["tfgan mnist_mlp", "plain Keras DCGAN (width 4)"],
                     ["tfgan mnist_mlp_conditional", "keras-io conditional GAN"]]
    for section in results["sections"]:
        tfgan, plain = section["contenders"]
        for contender in (tfgan, plain):
            (point,) = contender["curve"]  # one turn past the budget, scored once
            assert point["steps"] >= 1 and point["training_seconds"] > 0
            assert {"classifier_score", "frechet_distance", "precision", "recall"} <= set(point)
            assert ("conditional_accuracy" in point) == (section["section"] == "conditional")
        final = plain["curve"][-1]
        assert section["plain_final"] == {"classifier_score": final["classifier_score"],
                                          "frechet_distance": final["frechet_distance"]}
        # The plain script reaches its own final figures at its last point at the latest.
        for metric, seconds in plain["time_to_plain_final"].items():
            assert seconds is not None and seconds <= final["training_seconds"], metric
        assert set(tfgan["time_to_plain_final"]) == {"classifier_score", "frechet_distance"}
    assert (tmp_path / "runs" / "quality.png").stat().st_size > 0
    printed = capsys.readouterr().out
    assert "reaches plain score at" in printed and "cond acc" in printed


@pytest.mark.parametrize("flag, message, status", [
    ("--preset=ring", "--preset=ring trains a GAN sampled without class on --dataset=ring; "
                      "this section needs an MNIST preset sampled without class", 2),
    ("--preset=mnist_conditional", "--preset=mnist_conditional trains a GAN sampled by class "
                                   "on --dataset=mnist; this section needs an MNIST preset "
                                   "sampled without class", 2),
    ("--conditional_preset=mnist --sections=conditional",
     "--conditional_preset=mnist trains a GAN sampled without class on --dataset=mnist; this "
     "section needs an MNIST preset sampled by class", 2),
    ("--preset=no_such", "--preset=no_such: unknown preset 'no_such'", 2),
    ("--sections=both", "--sections takes unconditional, conditional; got both", 2),
    ("--preset=mnist_mlp --mnist_path=missing.npz",
     "--mnist_path 'missing.npz' does not exist", 1),
])
def test_a_wrong_flag_or_missing_data_is_one_error_line(tmp_path, capsys, flag, message,
                                                        status):
    with pytest.raises(SystemExit) as exit_info:
        _run(tmp_path, f"--out={tmp_path / 'out.json'}", "--sections=unconditional",
             *flag.split())
    assert exit_info.value.code == status
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "out.json").exists()
