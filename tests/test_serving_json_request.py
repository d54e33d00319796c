"""tfgan.serving.json_request follows json_tensor.cc: its request rules and its error texts."""

import tracemalloc

import numpy as np
import pytest
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import error_codes_pb2 as codes

from tfgan.serving import json_request, json_response
from tfgan.serving.errors import ServingError

FLOAT = {"x": types_pb2.DT_FLOAT}
SAMPLE = {"num_samples": types_pb2.DT_INT32, "seed": types_pb2.DT_INT64}


def parse(body, dtypes=FLOAT):
    body = body.encode("utf-8") if isinstance(body, str) else body
    return json_request.parse_predict_request(body, lambda signature: dtypes)


def error_of(body, dtypes=FLOAT):
    with pytest.raises(ServingError) as caught:
        parse(body, dtypes)
    return caught.value


# ---- parsing: rapidjson's grammar and messages ---------------------------------------------


@pytest.mark.parametrize("body, message", [
    ("", "JSON Parse error: The document is empty"),
    ("  \n", "JSON Parse error: The document is empty. at offset: 3"),
    ("]", "JSON Parse error: The document is empty. at offset: 0"),
    ("instances = [1, 2]", "JSON Parse error: Invalid value. at offset: 0"),
    ('{"instances": [1, 2', "JSON Parse error: Missing a comma or ']' after an array element."
                            " at offset: 19"),
    ('{"instances": [1,]}', "JSON Parse error: Invalid value. at offset: 17"),
    ('{"a" 1}', "JSON Parse error: Missing a colon after a name of object member. at offset: 5"),
    ('{"a": 1,}', "JSON Parse error: Missing a name for object member. at offset: 8"),
    ('{"a": 1 "b": 2}', "JSON Parse error: Missing a comma or '}' after an object member."
                        " at offset: 8"),
    ('{"a": }', "JSON Parse error: Invalid value. at offset: 6"),
    ('{"a": tru}', "JSON Parse error: Invalid value. at offset: 9"),
    ('{"a": -}', "JSON Parse error: Invalid value. at offset: 7"),
    ('{"a": "\\q"}', "JSON Parse error: Invalid escape character in string. at offset: 7"),
    ('{"a": "\\u12G4"}',
     "JSON Parse error: Incorrect hex digit after \\u escape in string. at offset: 7"),
    ('{"a": "\\ud800x"}',
     "JSON Parse error: The surrogate pair in string is invalid. at offset: 7"),
    ('{"a": "x\x01"}', "JSON Parse error: Invalid encoding in string. at offset: 8"),
    ('{"a": "x', "JSON Parse error: Missing a closing quotation mark in string. at offset: 8"),
    ('{"a": 1.}', "JSON Parse error: Miss fraction part in number. at offset: 8"),
    ('{"a": 1e+}', "JSON Parse error: Miss exponent in number. at offset: 9"),
    ('{"a": 1e999}', "JSON Parse error: Number too big to be stored in double. at offset: 6"),
    ('{"é": x}', "JSON Parse error: Invalid value. at offset: 7"),  # offsets count bytes
    ("[1, 2]", "JSON Value: [1, 2] Is not object"),
])
def test_parse_errors_are_rapidjsons(body, message):
    error = error_of(body)
    assert error.code == codes.INVALID_ARGUMENT
    assert error.message == message


def test_parse_accepts_what_rapidjson_accepts():
    # NaN/Infinity tokens (also rapidjson's Inf and -NaN), trailing data after the document,
    # and a NUL byte read as the end of the input.
    body = b'{"inputs": [NaN, Infinity, -Infinity, Inf, -NaN, 1e3]} trailing'
    values = parse(body).inputs["x"]
    assert values.dtype == np.float32
    assert np.isnan(values[[0, 4]]).all()
    np.testing.assert_array_equal(values[[1, 2, 3, 5]], [np.inf, -np.inf, np.inf, 1000.0])
    assert parse(b'{"inputs": [2]}\x00garbage').inputs["x"].tolist() == [2.0]


def test_numbers_beyond_uint64_are_doubles_as_in_rapidjson():
    values = parse('{"inputs": [18446744073709551616, 1e300, -12]}').inputs["x"]
    np.testing.assert_array_equal(values, np.array([2.0**64, np.inf, -12], np.float32))
    error = error_of('{"inputs": [18446744073709551616]}', {"x": types_pb2.DT_INT64})
    assert error.message == (
        "JSON Value: 18446744073709552000.0 Type: Number is not of expected type: int64")


@pytest.mark.parametrize("unit", [b"0,", b"[],", b"{},", b'"ab",'])
def test_reading_a_body_costs_a_few_bytes_per_body_byte(unit):
    body = b'{"inputs": [' + unit * (1_000_000 // len(unit)) + b"0]}"  # 1 MB
    tracemalloc.start()
    try:
        json_request.parse_json_object(body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 * len(body)  # the hand reader it replaced took ~163 bytes per byte


def test_repeated_members_use_the_first_and_print_all():
    document = json_request.parse_json_object(b'{"a": 1, "a": 2}')
    assert document["a"] == 1
    assert json_response.debug_string(document) == '{\n    "a": 1,\n    "a": 2\n}'


# ---- predict requests: row format ----------------------------------------------------------


def test_instances_with_one_input_are_its_rows():
    request = parse('{"instances": [[1, 2.5], [3, 4]]}')
    assert request.request_format == json_response.RequestFormat.ROW
    assert request.signature_name == ""
    np.testing.assert_array_equal(request.inputs["x"], np.array([[1, 2.5], [3, 4]], np.float32))
    assert request.inputs["x"].dtype == np.float32


def test_instances_with_several_inputs_are_objects():
    request = parse('{"signature_name": "s", "instances": [{"num_samples": 1, "seed": 7},'
                    ' {"seed": 8, "num_samples": 2}]}', SAMPLE)
    assert request.signature_name == "s"
    np.testing.assert_array_equal(request.inputs["num_samples"], np.array([1, 2], np.int32))
    np.testing.assert_array_equal(request.inputs["seed"], np.array([7, 8], np.int64))


@pytest.mark.parametrize("body, dtypes, message", [
    ('{"instances": ["x", "y"]}', FLOAT, "Failed to process element: 0 of 'instances' list."
     ' Error: INVALID_ARGUMENT: JSON Value: "x" Type: String is not of expected type: float'),
    ('{"instances": [[1, 2], [3]]}', FLOAT, "Failed to process element: 1 of 'instances' list."
     " Error: INVALID_ARGUMENT: Expecting tensor size: 2 but got: 1"),
    ('{"instances": [[[1, 2]], [[3], [4]]]}', FLOAT, "Failed to process element: 1 of"
     " 'instances' list. Error: INVALID_ARGUMENT: Expecting shape [1,2] but got: [2,1]"),
    ('{"instances": [[1, [2]]]}', FLOAT, "Failed to process element: 0 of 'instances' list."
     " Error: INVALID_ARGUMENT: Encountered list at unexpected level: 1 expected < 1"),
    ('{"instances": [[[1], 2]]}', FLOAT, "Failed to process element: 0 of 'instances' list."
     " Error: INVALID_ARGUMENT: JSON Value: 2 found at incorrect level: 2 in the JSON DOM."
     " Expected at level: 2"),
    ('{"instances": [[[1, 2], [3]]]}', FLOAT, "Failed to process element: 0 of 'instances'"
     " list. Error: INVALID_ARGUMENT: Encountered list at unexpected size: 1 at level: 1"
     " expected size: 2"),
    ('{"instances": [1, 2]}', SAMPLE, "instances is a plain list, but expecting list of objects"
     " as multiple input tensors required as per tensorinfo_map"),
    ('{"instances": [{"x": 1}, 2]}', FLOAT, "Expecting object but got list at item 1 of input"
     " list"),
    ('{"instances": [1, {"x": 2}]}', FLOAT, "Expecting value/list but got object at item 1 of"
     " input list"),
    ('{"instances": [{"seed": 1, "nope": 2}]}', SAMPLE, "Failed to process element: 0 key: nope"
     " of 'instances' list. Error: INVALID_ARGUMENT: JSON object: does not have named input:"
     " nope"),
    ('{"instances": [{"seed": 1}]}', SAMPLE, "Failed to process element: 0 of 'instances' list."
     ' JSON object: {\n    "seed": 1\n} keys must be equal to: num_samples,seed'),
    ('{"instances": 5}', FLOAT, "JSON Value: {\n    \"instances\": 5\n} Expecting 'instances'"
     " to be an list/array"),
    ('{"instances": []}', FLOAT, "JSON Value: {\n    \"instances\": []\n} No values in"
     " 'instances' array"),
])
def test_row_format_errors(body, dtypes, message):
    error = error_of(body, dtypes)
    assert error.code == codes.INVALID_ARGUMENT
    assert error.message == message


# ---- predict requests: columnar format -----------------------------------------------------


def test_inputs_take_whole_tensors_and_scalars():
    request = parse('{"inputs": {"num_samples": 4, "seed": 7, "ignored": 1}}', SAMPLE)
    assert request.request_format == json_response.RequestFormat.COLUMNAR
    assert request.inputs["num_samples"].shape == () and request.inputs["num_samples"] == 4
    assert request.inputs["num_samples"].dtype == np.int32
    assert request.inputs["seed"].dtype == np.int64
    assert set(request.inputs) == {"num_samples", "seed"}  # extra names are not inputs
    single = parse('{"inputs": [[1, 2], [3, 4]]}').inputs["x"]
    assert single.shape == (2, 2)


@pytest.mark.parametrize("body, dtypes, message", [
    ('{"inputs": {"num_samples": 4.0, "seed": 7}}', SAMPLE,
     "JSON Value: 4.0 Type: Number is not of expected type: int32"),
    ('{"inputs": {"num_samples": 3000000000, "seed": 7}}', SAMPLE,
     "JSON Value: 3000000000 Type: Number is not of expected type: int32"),
    ('{"inputs": {"num_samples": 4, "seed": 9223372036854775808}}', SAMPLE,
     "JSON Value: 9223372036854775808 Type: Number is not of expected type: int64"),
    ('{"inputs": {"num_samples": 4}}', SAMPLE, "Missing named input: seed in 'inputs' object."),
    ('{"inputs": [1, 2]}', SAMPLE, "inputs is a plain value/list, but expecting an object as"
     " multiple input tensors required as per tensorinfo_map"),
    ('{"inputs": [true]}', FLOAT, "JSON Value: true Type: True is not of expected type: float"),
    ('{"inputs": [{"b64": "aGk="}]}', FLOAT,
     'JSON Value: {\n    "b64": "aGk="\n} Type: Object is not of expected type: float'),
    ('{"instances": [1], "inputs": [2]}', FLOAT, 'JSON Value: {\n    "instances": [1],\n'
     "    \"inputs\": [2]\n} Not formatted correctly expecting only one of 'inputs' or"
     " 'instances' keys to exist "),
    ('{"signature_name": "s"}', FLOAT, "Missing 'inputs' or 'instances' key"),
    ('{"signature_name": 100}', FLOAT, 'JSON Value: {\n    "signature_name": 100\n} not'
     " formatted correctly. 'signature_name' key must be a string value."),
    ('{"inputs": {}}', {}, "Failed to get input map for signature: DEFAULT"),
])
def test_columnar_format_errors(body, dtypes, message):
    assert error_of(body, dtypes).message == message


def test_value_types_follow_the_signature_dtype():
    assert parse('{"inputs": [300, -1]}', {"x": types_pb2.DT_UINT8}).inputs["x"].tolist() == [
        44, 255]  # through the proto's int32 field and a C++ cast, as the stock server
    assert parse('{"inputs": [true, false]}', {"x": types_pb2.DT_BOOL}).inputs["x"].tolist() == [
        True, False]
    strings = parse('{"inputs": ["caf\\u00e9", {"b64": "aGk="}, {"b64": " aGk "}]}',
                    {"x": types_pb2.DT_STRING}).inputs["x"]
    assert strings.tolist() == ["café".encode(), b"hi", b"hi"]
    error = error_of('{"inputs": [{"b64": "a-k="}]}', {"x": types_pb2.DT_STRING})
    assert error.message == "Unable to base64 decode"
    error = error_of('{"inputs": [{"b64": 1}]}', {"x": types_pb2.DT_STRING})
    assert error.message == ('JSON Value: {\n    "b64": 1\n} not formatted correctly for base64'
                             " data")
    error = error_of('{"inputs": [1.5]}', {"x": types_pb2.DT_HALF})
    assert error.code == codes.UNIMPLEMENTED
    assert error.message == "Conversion of JSON Value: 1.5 to type: half"


# ---- tf.Example requests ----------------------------------------------------------------------


def test_examples_become_tf_examples():
    request = json_request.parse_classify_regress_request(
        b'{"signature_name": "c", "context": {"k": "v"},'
        b' "examples": [{"x": [1.5, 2.5], "n": 3, "b": true, "s": {"b64": "aGk="}}]}'
    )
    assert request.signature_name == "c"
    assert request.context.features.feature["k"].bytes_list.value == [b"v"]
    feature = request.examples[0].features.feature
    assert feature["x"].float_list.value == [1.5, 2.5]
    assert feature["n"].int64_list.value == [3] and feature["b"].int64_list.value == [1]
    assert feature["s"].bytes_list.value == [b"hi"]


@pytest.mark.parametrize("body, message", [
    (b'{"examples": [1]}', "Example must be JSON object but got JSON Number"),
    (b'{"examples": [{"x": [1.5, 2]}]}', "Unexpected element type in feature: x expecting"
     " type: float"),
    (b'{"examples": [{"x": null}]}', "Feature: x has element with unexpected JSON type: Null"),
    (b'{"examples": [{"x": [[1]]}]}', "Feature: x has element with unexpected JSON type: Array"),
    (b'{"examples": [{"x": 18446744073709551615}]}',
     "Feature: x has uint64_t element. Only int64_t is supported."),
    (b'{"examples": []}', "JSON Value: {\n    \"examples\": []\n} 'examples' value is an empty"
     " array"),
    (b'{"examples": {}}', "JSON Value: {\n    \"examples\": {}\n} Expecting 'examples' value to"
     " be an list/array"),
    (b'{}', "JSON Value: {} When method is classify, key 'examples' is expected and was not"
     " found"),
])
def test_example_errors(body, message):
    with pytest.raises(ServingError) as caught:
        json_request.parse_classify_regress_request(body)
    assert caught.value.message == message
