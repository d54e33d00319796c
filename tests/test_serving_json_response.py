"""tfgan.serving.json_response: TF Serving's float tokens and answer layout, vectorised.

The writer before issue 16's work (`json_writer_reference`, TensorFlow string ops) is the
reference: the new one must give the same bytes on any tensors.
"""

import base64
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tensorflow.core.protobuf import error_codes_pb2 as codes

import json_writer_reference
from tfgan.serving import json_response
from tfgan.serving.errors import ServingError

SETTINGS = settings(max_examples=250, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def answer_text(outputs, request_format):
    """The whole `:predict` answer as text."""
    return json_response.encode_predict_response(outputs, request_format).decode(
        "utf-8", "surrogateescape")


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
    for tokens, checked in ((json_writer_reference.float_tokens(normal).numpy(), normal),
                            (json_response.python_float_tokens(values), values)):
        expected = [write_decimal(v, dtype) for v in checked]
        mismatches = [(v, t.decode(), e) for v, t, e in zip(checked, tokens, expected)
                      if t.decode() != e]
        assert mismatches == []


def test_subnormals_print_as_the_stock_server_prints_them():
    values = np.array([[5e-324, 0.5]], np.float64)  # TensorFlow's kernels flush it to zero
    text = answer_text({"x": values}, json_response.RequestFormat.ROW)
    assert text == '{\n    "predictions": [[4.94066e-324, 0.5]\n    ]\n}'


def test_large_answers_are_the_same_json_in_both_layouts():
    rng = np.random.default_rng(1)
    samples = rng.random((5, 3, 2, 1)).astype(np.float32)
    z = rng.normal(size=(5, 4)).astype(np.float32)
    outputs = {"samples": samples, "z": z}
    row = json.loads(answer_text(outputs, json_response.RequestFormat.ROW))
    assert [r["z"] for r in row["predictions"]] == [
        [float(write_decimal(v, np.float32)) for v in r] for r in z
    ]
    columnar = answer_text(outputs, json_response.RequestFormat.COLUMNAR)
    parsed = json.loads(columnar)["outputs"]
    np.testing.assert_array_equal(np.array(parsed["samples"], np.float32), samples)
    # PrettyWriter: one value per line, four spaces per open container.
    assert columnar.startswith('{\n    "outputs": {\n        "samples": [\n            [\n')


def test_empty_inner_axes_and_integers():
    outputs = {"x": np.zeros((2, 0), np.int64)}
    assert answer_text(outputs, json_response.RequestFormat.ROW) == (
        '{\n    "predictions": [[], []\n    ]\n}')
    text = answer_text(
        {"x": np.array([[-(2**63), 2**63 - 1]], np.int64)}, json_response.RequestFormat.COLUMNAR)
    assert json.loads(text) == {"outputs": [[-(2**63), 2**63 - 1]]}
    unsigned = answer_text(
        {"x": np.array([2**64 - 1], np.uint64)}, json_response.RequestFormat.ROW)
    assert json.loads(unsigned) == {"predictions": [2**64 - 1]}


# ---- the debug strings inside error messages ------------------------------------------------


@pytest.mark.parametrize("value, text", [
    (0.1, "0.1"), (1e30, "1e30"), (1.5e-7, "1.5e-7"), (100.0, "100.0"), (1e20,
     "100000000000000000000.0"), (1e21, "1e21"), (1e-6, "0.000001"), (-0.0, "-0.0"),
])
def test_doubles_print_as_rapidjson_writes_them(value, text):
    assert json_response.format_double(value) == text


def test_debug_string_layout_truncation_and_nan():
    nested = {"a": [1, [2.5, "x"]], "b": {"c": None, "d": True}}
    assert json_response.debug_string(nested) == (
        '{\n    "a": [1, [2.5, "x"]],\n    "b": {\n        "c": null,\n        "d": true\n    }\n}'
    )
    long_list = list(range(1000))
    text = json_response.debug_string(long_list)
    assert text.startswith("[0, 1, 2") and not text.endswith("]")
    assert 256 <= len(text) < 262  # stops at the first value written past 256 bytes
    assert json_response.debug_string([1.0, float("nan"), 2.0]) == "[1.0, "  # rapidjson stops at NaN
    assert json_response.quote('a"b\\c\n\x1f/') == '"a\\"b\\\\c\\n\\u001F/"'


# ---- answers ---------------------------------------------------------------------------------


def test_row_answer_with_one_output_is_its_rows():
    text = answer_text(
        {"x": np.array([[2.5, 3.0], [3.5, 4.0]], np.float32)}, json_response.RequestFormat.ROW
    )
    assert text == '{\n    "predictions": [[2.5, 3.0], [3.5, 4.0]\n    ]\n}'


def test_row_answer_with_several_outputs_is_objects_per_row():
    outputs = {
        "b": np.array([[True], [False]]),
        "i": np.array([7, -(2**40)], np.int64),
        "s": np.array([b"a\n", b"\x01b"], object),
    }
    assert json.loads(answer_text(outputs, json_response.RequestFormat.ROW)) == {
        "predictions": [{"b": [True], "i": 7, "s": "a\n"},
                        {"b": [False], "i": -(2**40), "s": "\x01b"}]
    }


def test_columnar_answer_layout():
    text = answer_text(
        {"x": np.array([3.5, 4.0], np.float32)}, json_response.RequestFormat.COLUMNAR
    )
    assert text == '{\n    "outputs": [\n        3.5,\n        4.0\n    ]\n}'
    scalar = answer_text({"x": np.float32(1.5)}, json_response.RequestFormat.COLUMNAR)
    assert scalar == '{\n    "outputs": 1.5\n}'


def test_floats_print_like_strcat_and_tokens_for_non_finite():
    values = np.array([9e6, 999999, 0.5, 0.0003, 0.00003, 555557.5, 0.1, np.nan, np.inf,
                       -np.inf, 1 / 3], np.float32)
    text = answer_text({"x": values}, json_response.RequestFormat.ROW)
    assert text == ('{\n    "predictions": [9e+06, 999999.0, 0.5, 0.0003, 3e-05, 555557.5, 0.1,'
                    ' NaN, Infinity, -Infinity, 0.333333343\n    ]\n}')


def test_bytes_outputs_are_base64_objects():
    png = np.array([b"\x89PNG", b"hi"], object)
    text = answer_text({"png_bytes": png}, json_response.RequestFormat.ROW)
    assert text == ('{\n    "predictions": [{\n            "b64": "iVBORw=="\n        }, {\n'
                    '            "b64": "aGk="\n        }\n    ]\n}')
    both = json.loads(answer_text(
        {"png_bytes": png, "name": np.array([b"a", b"b"], object)}, json_response.RequestFormat.COLUMNAR
    ))
    assert both == {"outputs": {"png_bytes": [{"b64": "iVBORw=="}, {"b64": "aGk="}],
                                "name": ["a", "b"]}}
    assert base64.b64decode(both["outputs"]["png_bytes"][0]["b64"]) == b"\x89PNG"


@pytest.mark.parametrize("outputs, request_format, message", [
    ({}, "ROW", "Cannot convert empty tensor map to JSON"),
    ({"x": np.float32(1)}, "ROW", "Tensor name: x has no shape information "),
    ({"x": np.zeros(2), "y": np.zeros(3)}, "ROW",
     "Tensor name: y has inconsistent batch size: 3 expecting: 2"),
    ({"x": np.zeros(2, np.complex64)}, "COLUMNAR",
     "Failed to write JSON value for tensor type: complex64"),
])
def test_answer_errors(outputs, request_format, message):
    with pytest.raises(ServingError) as caught:
        answer_text(outputs, json_response.RequestFormat[request_format])
    assert caught.value.code == codes.INVALID_ARGUMENT
    assert caught.value.message == message


def test_empty_batch_and_error_body():
    empty = answer_text({"x": np.zeros((0, 2), np.float32)},
                                        json_response.RequestFormat.ROW)
    assert empty == '{\n    "predictions": []\n}'
    assert json_response.make_error_json('bad "x"') == '{\n    "error": "bad \\"x\\""\n}'


# ---- the float32 arithmetic against printf and strtof, and the whole answer against the old
# writer ----------------------------------------------------------------------------------------


def row_tokens(rows):
    """The tokens in `json_response.float32_rows` rows (NULs dropped), one per row."""
    rows = rows.copy()
    rows[:, 0] = ord("\n")
    return rows.tobytes().translate(None, b"\0").split(b"\n")[1:]


def reference_tokens(values):
    """The old writer's tokens: TensorFlow's printf / strtof, Python's for subnormals."""
    normal = ~((values != 0) & (np.abs(values) < np.finfo(values.dtype).tiny))
    tokens = np.empty(values.size, object)
    tokens[normal] = list(json_writer_reference.float_tokens(values[normal]).numpy())
    tokens[~normal] = list(json_writer_reference.python_float_tokens(values[~normal]))
    return tokens.tolist()


def test_float32_rows_match_printf_and_strtof_across_the_float32_range():
    rng = np.random.default_rng(2)
    bit_patterns = rng.integers(0, 2**32, 300_000, dtype=np.uint64).astype(np.uint32)
    with np.errstate(all="ignore"):  # signalling NaNs among the bit patterns
        powers_of_ten = np.float32(10.0 ** np.arange(-46, 39))
        values = np.concatenate([
            bit_patterns.view(np.float32),
            2.0 ** np.arange(-149, 128, dtype=np.float64),  # dyadic: decimal ties at 6 and 9
            powers_of_ten, np.nextafter(powers_of_ten, np.float32(0)),
            np.nextafter(powers_of_ten, np.float32(np.inf)),
            np.float32(rng.random(50_000)), np.float32(np.round(rng.random(20_000), 3)),
            edge_values(np.float32),
        ]).astype(np.float32)
    values = np.concatenate([values, -values])
    tokens = row_tokens(json_response.float32_rows(values))
    expected = reference_tokens(values)
    mismatches = [(v, t, e) for v, t, e in zip(values, tokens, expected) if t != e]
    assert mismatches == []
    with np.errstate(over="ignore", under="ignore"):
        assert tokens[:len(values) // 2] == [write_decimal(v, np.float32).encode()
                                           for v in values[:len(values) // 2]]


def float_arrays(dtype, shape):
    width = 32 if dtype == np.float32 else 64
    scaled = st.tuples(st.floats(0, 1, width=width), st.integers(-45, 38)).map(
        lambda pair: dtype(pair[0] * 10.0 ** pair[1]) if abs(pair[1]) < 300 else dtype(0))
    elements = st.floats(width=width, allow_subnormal=True) | scaled | st.sampled_from(
        [0.0, -0.0, 0.5, 1.0, 100.0, 1e6, 999999.5, 2.0**-9, float("nan"), float("inf")])
    return hnp.arrays(dtype, shape, elements=elements)


def arrays_of(dtype, shape):
    if dtype in (np.float32, np.float64):
        return float_arrays(dtype, shape)
    if dtype == object:
        text = st.binary(max_size=6) | st.text(max_size=4).map(lambda t: t.encode("utf-8"))
        return hnp.arrays(object, shape, elements=text)
    return hnp.arrays(dtype, shape)


@st.composite
def answers(draw):
    """1-3 outputs of a few dtypes and shapes (some with a 0 dimension), a request format."""
    request_format = draw(st.sampled_from(list(json_response.RequestFormat)))
    batch = draw(st.integers(0, 3))
    count = draw(st.integers(1, 3))
    names = draw(st.lists(st.sampled_from(["samples", "z", "png_bytes", "a\"b", "\u00e9"]),
                          min_size=count, max_size=count, unique=True))
    outputs = {}
    for name in names:
        dtype = draw(st.sampled_from([np.float32, np.float32, np.float64, np.int64, np.int8,
                                      np.uint64, np.bool_, object]))
        dims = draw(st.lists(st.integers(0, 4), max_size=3))
        if request_format == json_response.RequestFormat.ROW:
            dims = [batch] + dims
        elif not dims and draw(st.booleans()):
            dims = []  # a scalar (columnar only)
        outputs[name] = draw(arrays_of(dtype, tuple(dims)))
    return outputs, request_format


@SETTINGS
@given(answer=answers())
def test_answers_are_the_old_writers_bytes(answer):
    outputs, request_format = answer
    old_format = json_writer_reference.RequestFormat[request_format.name]
    with np.errstate(all="ignore"):
        expected = json_writer_reference.encode_predict_response(outputs, old_format)
    response = json_response.predict_response(outputs, request_format)
    assert response.length == len(expected)
    assert b"".join(response) == expected


@pytest.mark.parametrize("request_format", list(json_response.RequestFormat))
def test_a_1024_sample_answer_is_the_old_writers_bytes(request_format):
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 8, (1024, 28, 28, 1))
    samples = (1 / (1 + np.exp(-logits))).astype(np.float32)  # tiny values, exponents, ties
    outputs = {"samples": samples, "z": rng.normal(size=(1024, 100)).astype(np.float32)}
    old_format = json_writer_reference.RequestFormat[request_format.name]
    response = json_response.predict_response(outputs, request_format)
    chunks = list(response)
    assert len(chunks) > 2 and max(map(len, chunks)) < 4 << 20  # never one 69 MB string
    body = b"".join(chunks)
    assert len(body) == response.length
    assert body == json_writer_reference.encode_predict_response(outputs, old_format)


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
    if request_format == json_response.RequestFormat.ROW:
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


@pytest.mark.parametrize("request_format", list(json_response.RequestFormat))
@pytest.mark.parametrize("shape", SHAPES)
def test_layout_matches_pretty_writer_for_every_shape(shape, request_format):
    rng = np.random.default_rng(len(shape))
    floats = rng.normal(size=shape).astype(np.float32)
    ints = rng.integers(-5, 5, size=shape)
    words = np.array(["a\"b", "\u00e9", "x"] * (int(np.prod(shape)) + 1),
                     dtype=object)[:int(np.prod(shape))].reshape(shape)
    cases = [{"x": floats}, {"b": ints > 0}, {"w": words}, {"x": floats, "n": ints}]
    for outputs in cases:
        if request_format == json_response.RequestFormat.ROW and (not shape or not shape[0]):
            continue  # refused or `[]`: tested above
        expected = reference_answer(outputs, request_format)
        assert answer_text(outputs, request_format) == expected


@pytest.mark.parametrize("rank", [9, 30, 40])
def test_deep_tensors_are_written(rank):
    # TensorFlow's where() broadcasts up to rank 8, and one control byte per kind of gap
    # would run out at rank 30: the writer must depend on neither.
    deep = np.full((1,) * (rank - 1) + (2,), 0.5, np.float32)
    for request_format in json_response.RequestFormat:
        assert answer_text({"x": deep}, request_format) == (
            reference_answer({"x": deep}, request_format))
