"""tfgan.serving.json_writer: TF Serving's float tokens and answer layout, vectorised."""

import json

import numpy as np
import pytest

from tfgan.serving import json_writer


def write_decimal(value, dtype):
    """json_tensor.cc's WriteDecimal, one value at a time: the reference."""
    value = dtype(value)
    if np.isnan(value):
        return "NaN"
    if np.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    text = "%g" % value
    if dtype(float(text)) != value:
        text = "%.*g" % (9 if dtype == np.float32 else 17, value)
    if "." not in text and "e" not in text:
        text += ".0"
    return text


def edge_values(dtype):
    rng = np.random.default_rng(0)
    values = [0.0, -0.0, 1.0, -1.0, 0.5, 0.1, 1 / 3, 9e6, 999999.0, 1e6, 1234567.0,
              16777216.0, 1e9, 1e17, 2.0**53, 3e-5, 1e-7, 555557.5, 999999.5, np.nan,
              np.inf, -np.inf, np.finfo(dtype).max, np.finfo(dtype).tiny, 5e-324]
    randoms = np.concatenate([
        rng.random(2000), rng.normal(0, 1e6, 500), rng.integers(-10**7, 10**7, 500),
        10.0 ** rng.uniform(-30, 30, 1000) * rng.choice([-1, 1], 1000),
    ])
    with np.errstate(over="ignore", under="ignore"):
        values = np.concatenate([np.array(values), randoms]).astype(dtype)
        # Six-digit decimals and their neighbours: where `%g` starts or stops reading back.
        max_exponent = 30 if dtype == np.float32 else 300
        decimals = (rng.integers(100000, 1000000, 1000)
                    * 10.0 ** rng.integers(-max_exponent, max_exponent, 1000)).astype(dtype)
        neighbours = [np.nextafter(decimals, dtype(direction)) for direction in (np.inf, -np.inf)]
        bits = rng.integers(0, 2**32 if dtype == np.float32 else 2**63, 3000, dtype=np.uint64)
        any_bits = bits.astype(np.uint32 if dtype == np.float32 else np.uint64).view(dtype)
        return np.concatenate([values, decimals, -decimals, *neighbours, any_bits])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_tokens_match_write_decimal_value_by_value(dtype):
    values = edge_values(dtype)
    normal = values[~((values != 0) & (np.abs(values) < np.finfo(dtype).tiny))]
    for tokens, checked in ((json_writer.float_tokens(normal).numpy(), normal),
                            (json_writer.python_float_tokens(values), values)):
        expected = [write_decimal(v, dtype) for v in checked]
        mismatches = [(v, t.decode(), e) for v, t, e in zip(checked, tokens, expected)
                      if t.decode() != e]
        assert mismatches == []


def test_subnormals_print_as_the_stock_server_prints_them():
    values = np.array([[5e-324, 0.5]], np.float64)  # TensorFlow's kernels flush it to zero
    text = json_writer.make_predict_response({"x": values}, json_writer.RequestFormat.ROW)
    assert text == '{\n    "predictions": [[4.94066e-324, 0.5]\n    ]\n}'


def test_large_answers_are_the_same_json_in_both_layouts():
    rng = np.random.default_rng(1)
    samples = rng.random((5, 3, 2, 1)).astype(np.float32)
    z = rng.normal(size=(5, 4)).astype(np.float32)
    outputs = {"samples": samples, "z": z}
    row = json.loads(json_writer.make_predict_response(outputs, json_writer.RequestFormat.ROW))
    assert [r["z"] for r in row["predictions"]] == [
        [float(write_decimal(v, np.float32)) for v in r] for r in z
    ]
    columnar = json_writer.make_predict_response(outputs, json_writer.RequestFormat.COLUMNAR)
    parsed = json.loads(columnar)["outputs"]
    np.testing.assert_array_equal(np.array(parsed["samples"], np.float32), samples)
    # PrettyWriter: one value per line, four spaces per open container.
    assert columnar.startswith('{\n    "outputs": {\n        "samples": [\n            [\n')


def test_empty_inner_axes_and_integers():
    outputs = {"x": np.zeros((2, 0), np.int64)}
    assert json_writer.make_predict_response(outputs, json_writer.RequestFormat.ROW) == (
        '{\n    "predictions": [[], []\n    ]\n}')
    text = json_writer.make_predict_response(
        {"x": np.array([[-(2**63), 2**63 - 1]], np.int64)}, json_writer.RequestFormat.COLUMNAR)
    assert json.loads(text) == {"outputs": [[-(2**63), 2**63 - 1]]}
    unsigned = json_writer.make_predict_response(
        {"x": np.array([2**64 - 1], np.uint64)}, json_writer.RequestFormat.ROW)
    assert json.loads(unsigned) == {"predictions": [2**64 - 1]}


def pretty(value, level, single_line, token):
    """rapidjson's PrettyWriter (indent 4) written out recursively: the layout reference."""
    if not isinstance(value, list):
        return token(value)
    if not value:
        return "[]"
    items = [pretty(v, level + 1, single_line, token) for v in value]
    if single_line:
        return "[" + ", ".join(items) + "]"
    pad = " " * (4 * (level + 1))
    return "[\n" + pad + (",\n" + pad).join(items) + "\n" + " " * (4 * level) + "]"


def reference_answer(outputs, request_format):
    names = sorted(outputs)

    def token(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        return write_decimal(v, np.float32)

    values = {name: np.asarray(outputs[name]).tolist() for name in names}
    if request_format == json_writer.RequestFormat.ROW:
        if len(names) == 1:
            rows = [pretty(r, 2, True, token) for r in values[names[0]]]
            body = ", ".join(rows)
        else:
            body = ",".join(
                "\n        {" + ",".join(
                    f'\n            "{name}": ' + pretty(values[name][i], 3, True, token)
                    for name in names) + "\n        }"
                for i in range(len(values[names[0]])))
        return '{\n    "predictions": [' + body + "\n    ]\n}"
    if len(names) == 1:
        return '{\n    "outputs": ' + pretty(values[names[0]], 1, False, token) + "\n}"
    fields = [f'\n        "{name}": ' + pretty(values[name], 2, False, token) for name in names]
    return '{\n    "outputs": {' + ",".join(fields) + "\n    }\n}"


SHAPES = [(), (1,), (3,), (2, 1), (1, 3), (2, 3, 4), (3, 1, 1, 2), (2, 2, 1, 3, 1), (0,),
          (2, 0), (3, 0, 2), (2, 3, 0), (1, 1, 1, 1, 1, 1)]


@pytest.mark.parametrize("request_format", list(json_writer.RequestFormat))
@pytest.mark.parametrize("shape", SHAPES)
def test_layout_matches_pretty_writer_for_every_shape(shape, request_format):
    rng = np.random.default_rng(len(shape))
    floats = rng.normal(size=shape).astype(np.float32)
    ints = rng.integers(-5, 5, size=shape)
    words = np.array(["a\"b", "\u00e9", "x"] * (int(np.prod(shape)) + 1),
                     dtype=object)[:int(np.prod(shape))].reshape(shape)
    cases = [{"x": floats}, {"b": ints > 0}, {"w": words}, {"x": floats, "n": ints}]
    for outputs in cases:
        if request_format == json_writer.RequestFormat.ROW and (not shape or not shape[0]):
            continue  # refused or `[]`: tested above
        expected = reference_answer(outputs, request_format)
        assert json_writer.make_predict_response(outputs, request_format) == expected


def test_ranks_up_to_29_are_written_and_deeper_ones_refused_in_one_line():
    deep = np.full((1,) * 29, 0.5, np.float32)
    text = json_writer.make_predict_response({"x": deep}, json_writer.RequestFormat.COLUMNAR)
    assert text == reference_answer({"x": deep}, json_writer.RequestFormat.COLUMNAR)
    with pytest.raises(json_writer.ServingError) as caught:
        json_writer.make_predict_response({"x": deep[..., None]},
                                          json_writer.RequestFormat.COLUMNAR)
    assert caught.value.message == "Cannot write a tensor of rank 30 as JSON (at most 29 axes)"
