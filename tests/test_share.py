"""Share links: state -> URL -> state is exact, and hostile URLs are clamped, never trusted."""
from __future__ import annotations

import math

import pytest

import optcore
from optcore.share import MAX_METHODS, MAX_STEPS, decode_state, encode_state


def _state():
    return {
        "view": "compare",
        "preset": "rosenbrock",
        "formula": "(1-x)^2 + 100(y-x^2)^2",
        "start": [-1.2, 1.0000000000000002],
        "starts": [[0.1, 0.2], [-3.0, 2.5]],
        "window": [(-2.0, 2.0), (-1.0, 3.0)],
        "window_fixed": True,
        "steps": 500,
        "tol": 1e-10,
        "methods": {"m0": {"method": "gd", "params": {"lr": 0.001, "line_search": "none", "noise": 0.0, "seed": 0}},
                    "m1": {"method": "adam", "params": {"lr": 0.05, "beta1": 0.9, "beta2": 0.999}},
                    "m2": {"method": "gd", "params": {"lr": 0.0123456789, "line_search": "backtracking"}}},
        "options": {"xaxis": "f evaluations", "n_methods": "3"},
    }


def test_round_trip_is_exact():
    state = _state()
    query = encode_state(state)
    assert all(isinstance(v, str) for v in query.values())
    back, notices = decode_state(query)
    assert notices == []
    assert back["formula"] == state["formula"]
    assert back["start"] == state["start"]  # repr round-trips floats exactly
    assert back["starts"] == state["starts"]
    assert [tuple(w) for w in back["window"]] == state["window"] and back["window_fixed"] is True
    assert back["steps"] == 500 and back["tol"] == 1e-10
    assert back["methods"] == state["methods"]
    assert back["options"] == state["options"]
    assert back["view"] == "compare" and back["preset"] == "rosenbrock"


def test_a_window_that_follows_the_runs_says_nothing_and_a_bad_flag_is_refused():
    query = encode_state({**_state(), "window_fixed": False})
    assert "win" in query and "winfix" not in query      # links from before the flag read the same
    assert "window_fixed" not in decode_state(query)[0]
    back, notices = decode_state({"winfix": "yes"})
    assert "window_fixed" not in back and notices == ["winfix: not 0 or 1; ignored"]


def test_encode_is_stable():
    assert encode_state(_state()) == encode_state(_state())


@pytest.mark.parametrize("query, check", [
    ({"steps": "99999999"}, lambda s: s["steps"] == MAX_STEPS),
    ({"steps": "-5"}, lambda s: s["steps"] == 1),
    ({"steps": "nan"}, lambda s: "steps" not in s),
    ({"tol": "1e-400"}, lambda s: s["tol"] > 0),
    ({"tol": "inf"}, lambda s: "tol" not in s),
    ({"x0": "1,nan"}, lambda s: "start" not in s),
    ({"x0": "1e308,-1e308"}, lambda s: all(abs(v) <= 1e6 for v in s["start"])),
    ({"win": "3,-3;1,1"}, lambda s: s["window"][0] == (-3.0, 3.0) and s["window"][1][0] < s["window"][1][1]),
    ({"win": "0,inf"}, lambda s: "window" not in s),
    ({"m.m0": "gd(lr=1e9)"}, lambda s: s["methods"]["m0"]["params"]["lr"] == 10.0),
    ({"m.m0": "gd(lr=-1)"}, lambda s: s["methods"]["m0"]["params"]["lr"] == 1e-4),
    ({"m.m0": "gd(line_search=__import__('os'))"}, lambda s: s["methods"]["m0"]["params"]["line_search"] == "none"),
    ({"m.m0": "evil(lr=1)"}, lambda s: "methods" not in s),
    ({"m.m0": "gd(__class__=1)"}, lambda s: s["methods"]["m0"]["params"] == {}),
    ({"m.m0": "adam(beta1=2)"}, lambda s: s["methods"]["m0"]["params"]["beta1"] == 0.999),
    ({"m.m0": "lbfgs(memory=1000)"}, lambda s: s["methods"]["m0"]["params"]["memory"] == 50),
    ({"p": "../../etc/passwd"}, lambda s: "preset" not in s),
    ({"f": "x" * 5000}, lambda s: "formula" not in s),
    ({"view": "<script>"}, lambda s: "view" not in s),
])
def test_hostile_values_are_clamped_with_a_notice(query, check):
    state, notices = decode_state(query, views=("playground", "compare"))
    assert check(state), state
    assert notices, "every change must be reported"


def test_at_most_six_methods():
    query = {f"m.m{i}": "gd(lr=0.1)" for i in range(20)}
    state, notices = decode_state(query)
    assert len(state["methods"]) == MAX_METHODS
    assert any("at most" in n for n in notices)


def test_formula_is_only_text():
    """decode never evaluates a formula: it stays text for optcore.parse (which rejects this)."""
    evil = "__import__('os').system('echo hi')"
    state, _ = decode_state({"f": evil})
    assert state["formula"] == evil
    with pytest.raises(optcore.FormulaError):
        optcore.parse(evil)


def test_garbage_never_raises():
    for query in ({"x0": ";;;,,,"}, {"starts": "1,2;" * 100}, {"win": "a,b"}, {"m.m0": "(((("},
                  {"o." + "k" * 100: "v"}, {"o.xaxis": "v" * 1000}, {"steps": ""}):
        state, notices = decode_state(query)
        assert isinstance(state, dict) and isinstance(notices, list)
    state, _ = decode_state({"starts": "1,2;" * 100})
    assert len(state["starts"]) <= 16
    assert all(math.isfinite(c) for p in state["starts"] for c in p)


@pytest.mark.parametrize("spelled", ["５０", "٥٠", "1_000", "0x32", "50.0.0", "5e", "+-5"])
def test_link_numbers_must_be_plain_ascii_decimals(spelled):
    """float() reads fullwidth and Arabic-Indic digits and underscores; a link value spelled so is
    refused with a notice like any other bad number, never read silently."""
    state, notices = decode_state({"steps": spelled, "tol": spelled, "x0": f"{spelled},1"})
    assert "steps" not in state and "tol" not in state and "start" not in state
    assert any(n.startswith("steps:") for n in notices)
    assert any(n.startswith("tol:") for n in notices)
    assert any(n.startswith("start:") for n in notices)


def test_plain_decimal_spellings_still_read():
    state, notices = decode_state({"steps": "50", "tol": "1e-08", "x0": "-1.5e0,.5, 2"})
    assert state["steps"] == 50 and state["tol"] == 1e-08 and state["start"] == [-1.5, 0.5, 2.0]
    assert notices == []
