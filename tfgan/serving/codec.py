"""JSON requests -> tensors for the REST API, following TF Serving's `util/json_tensor.cc`.

The stock model server parses request bodies with rapidjson (iterative parser, `NaN` and
`Infinity` tokens allowed, stop after the first value). This module reproduces it, rule for
rule and message for message, so that a client cannot tell the embedded server from the stock
one (answers are written by `json_writer`, error texts by `json_text`):

- `parse_json_object` reads a body; malformed JSON gives rapidjson's own error text and byte
  offset, e.g. `JSON Parse error: Invalid value. at offset: 0`.
- `parse_predict_request` turns a `:predict` body into named numpy arrays, from the row
  (`instances`) or the columnar (`inputs`) format.
- `parse_classify_regress_request` turns a `:classify` / `:regress` body into `tf.Example`s.

Every error is a `ServingError` with the canonical code the stock server uses.
"""

import base64
import binascii
import json
import math
import re

import numpy as np
from tensorflow.core.example import example_pb2, feature_pb2
from tensorflow.core.framework import types_pb2

from tfgan.serving.errors import ServingError, dtype_name
from tfgan.serving.json_text import (  # noqa: F401 - re-exported for callers of the codec
    JsonObject,
    debug_string,
    format_double,
    format_error,
    json_type_name,
    make_error_json,
    make_object,
    members,
    quote,
)
from tfgan.serving.json_writer import (  # noqa: F401 - re-exported for callers of the codec
    RequestFormat,
    encode_predict_response,
    make_predict_response,
)

ROW_KEY = "instances"
COLUMNAR_KEY = "inputs"
SIGNATURE_KEY = "signature_name"
BASE64_KEY = "b64"

# --------------------------------------------------------------------------------------------
# Parsing: rapidjson's grammar, values and error messages.
# --------------------------------------------------------------------------------------------


class _NotFastPath(Exception):
    """Python's parser would accept or read the body differently from rapidjson."""


def _parse_number(text):
    """rapidjson's reading of a number token (used by the exact reader).

    Raises:
        OverflowError: if the number does not fit a double.
    """
    if any(c in text for c in ".eE"):
        value = float(text)
        if math.isinf(value):
            raise OverflowError(text)
        return value
    value = int(text)
    if -(2**63) <= value < 2**64:
        return value
    return float(value)  # rapidjson keeps out-of-range integers as doubles


_FAST_DECODER = json.JSONDecoder(object_pairs_hook=make_object)
# Where Python's parser and rapidjson may differ: lone surrogate escapes (Python accepts them),
# integers past uint64 (rapidjson makes them doubles), exponents that may overflow.
_NOT_FAST = re.compile(r"\\u[dD][89a-fA-F]|(?<![0-9.])[0-9]{20,}(?![0-9.eE])|[eE]\+?[0-9]{3}")
_WHITESPACE = " \t\n\r"

_PARSE_ERRORS = {
    "empty": "The document is empty.",
    "value": "Invalid value.",
    "name": "Missing a name for object member.",
    "colon": "Missing a colon after a name of object member.",
    "object_comma": "Missing a comma or '}' after an object member.",
    "array_comma": "Missing a comma or ']' after an array element.",
    "hex": "Incorrect hex digit after \\u escape in string.",
    "surrogate": "The surrogate pair in string is invalid.",
    "escape": "Invalid escape character in string.",
    "quote": "Missing a closing quotation mark in string.",
    "encoding": "Invalid encoding in string.",
    "too_big": "Number too big to be stored in double.",
    "fraction": "Miss fraction part in number.",
    "exponent": "Miss exponent in number.",
}


class _SyntaxError(Exception):
    """A rapidjson parse error: its kind (a key of `_PARSE_ERRORS`) and character offset."""

    def __init__(self, kind, offset):
        super().__init__(kind)
        self.kind = kind
        self.offset = offset


def parse_json_object(body):
    """Parses a request body as rapidjson does in `json_tensor.cc`'s `ParseJson`.

    Args:
        body: bytes, the HTTP request body.

    Returns:
        dict, the top-level JSON object (a `JsonObject` if it repeats a member name). Numbers
        are `int` when written as integers in the int64/uint64 range, else `float`.

    Raises:
        ServingError: INVALID_ARGUMENT with rapidjson's message for malformed JSON, or
            `JSON Value: ... Is not object` when the document is not an object.
    """
    if not body:
        raise ServingError.invalid_argument("JSON Parse error: The document is empty")
    text = body.decode("utf-8", "surrogateescape")
    skipped = 0
    if text.startswith("\ufeff"):  # rapidjson's UTF-8 stream drops a byte order mark
        text, skipped = text[1:], 3
    text = text.split("\0", 1)[0]  # rapidjson reads a NUL byte as the end of the input
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        if _NOT_FAST.search(text):
            raise _NotFastPath()
        value, _ = _FAST_DECODER.raw_decode(text, start)
    except (ValueError, RecursionError, _NotFastPath):
        try:
            value = _RapidJsonReader(text).parse()
        except _SyntaxError as error:
            offset = skipped + len(text[: error.offset].encode("utf-8", "surrogateescape"))
            raise ServingError.invalid_argument(
                f"JSON Parse error: {_PARSE_ERRORS[error.kind]} at offset: {offset}"
            ) from None
    if not isinstance(value, dict):
        raise format_error(value, "Is not object")
    return value


class _RapidJsonReader:
    """rapidjson's iterative parser: the same grammar, error kinds and offsets.

    Only used when Python's (much faster) parser fails or reads a value differently, to
    produce the stock server's error message.
    """

    def __init__(self, text):
        self.text = text
        self.pos = 0

    def _peek(self):
        return self.text[self.pos] if self.pos < len(self.text) else "\0"

    def _skip_whitespace(self):
        while self.pos < len(self.text) and self.text[self.pos] in _WHITESPACE:
            self.pos += 1

    def parse(self):
        self._skip_whitespace()
        if self.pos >= len(self.text):
            raise _SyntaxError("empty", self.pos)
        stack = []  # one [members or elements, is_object, pending member name] per container
        state = "start"
        while True:
            self._skip_whitespace()
            char = self._peek()
            if char == "\0":
                raise _SyntaxError(_END_ERRORS[state], self.pos)
            if state in ("start", "value", "array_start", "element_delimiter"):
                if char == "]" and state == "array_start":
                    self.pos += 1
                    value = stack.pop()[0]
                elif char in "]},:":
                    raise _SyntaxError("empty" if state == "start" else "value", self.pos)
                elif char in "[{":
                    self.pos += 1
                    stack.append([[], char == "{", None])
                    state = "object_start" if char == "{" else "array_start"
                    continue
                else:
                    value = self._scalar(char)
            elif state in ("object_start", "member_delimiter"):
                if char == "}" and state == "object_start":
                    self.pos += 1
                    value = make_object(stack.pop()[0])
                elif char == '"':
                    stack[-1][2] = self._string()
                    state = "member_name"
                    continue
                else:
                    raise _SyntaxError("name", self.pos)
            elif state == "member_name":
                if char != ":":
                    raise _SyntaxError("colon", self.pos)
                self.pos += 1
                state = "value"
                continue
            elif state == "member_value":
                if char not in ",}":
                    raise _SyntaxError("object_comma", self.pos)
                self.pos += 1
                if char == ",":
                    state = "member_delimiter"
                    continue
                value = make_object(stack.pop()[0])
            else:  # "element"
                if char not in ",]":
                    raise _SyntaxError("array_comma", self.pos)
                self.pos += 1
                if char == ",":
                    state = "element_delimiter"
                    continue
                value = stack.pop()[0]
            if not stack:
                return value
            container, is_object, name = stack[-1]
            container.append((name, value) if is_object else value)
            state = "member_value" if is_object else "element"

    def _scalar(self, char):
        if char == '"':
            return self._string()
        for literal, value in (("null", None), ("true", True), ("false", False)):
            if char == literal[0]:
                self.pos += 1
                if not self._consume(literal[1:]):
                    raise _SyntaxError("value", self.pos)
                return value
        return self._number()

    def _string(self):
        self.pos += 1  # opening quote
        chars = []
        while True:
            char = self._peek()
            if char == '"':
                self.pos += 1
                return "".join(chars)
            if char == "\\":
                escape_offset = self.pos
                self.pos += 1
                escaped = self._peek()
                if escaped in _SIMPLE_ESCAPES:
                    chars.append(_SIMPLE_ESCAPES[escaped])
                    self.pos += 1
                elif escaped == "u":
                    self.pos += 1
                    code = self._hex4(escape_offset)
                    if 0xD800 <= code <= 0xDBFF:
                        if self.text[self.pos : self.pos + 2] != "\\u":
                            raise _SyntaxError("surrogate", escape_offset)
                        self.pos += 2
                        low = self._hex4(escape_offset)
                        if not 0xDC00 <= low <= 0xDFFF:
                            raise _SyntaxError("surrogate", escape_offset)
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    elif 0xDC00 <= code <= 0xDFFF:
                        raise _SyntaxError("surrogate", escape_offset)
                    chars.append(chr(code))
                else:
                    raise _SyntaxError("escape", escape_offset)
            elif char == "\0":
                raise _SyntaxError("quote", self.pos)
            elif ord(char) < 0x20:
                raise _SyntaxError("encoding", self.pos)
            else:
                chars.append(char)
                self.pos += 1

    def _hex4(self, escape_offset):
        digits = self.text[self.pos : self.pos + 4]
        if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise _SyntaxError("hex", escape_offset)
        self.pos += 4
        return int(digits, 16)

    def _digits(self):
        start = self.pos
        while "0" <= self._peek() <= "9":
            self.pos += 1
        return self.pos > start

    def _consume(self, word):
        for expected in word:
            if self._peek() != expected:
                return False
            self.pos += 1
        return True

    def _number(self):
        start = self.pos
        minus = self._peek() == "-"
        if minus:
            self.pos += 1
        char = self._peek()
        if char == "0":
            self.pos += 1
        elif "1" <= char <= "9":
            self._digits()
        elif char == "N":
            self.pos += 1
            if not self._consume("aN"):
                raise _SyntaxError("value", self.pos)
            return math.nan
        elif char == "I":
            self.pos += 1
            if not self._consume("nf"):
                raise _SyntaxError("value", self.pos)
            if self._peek() == "i" and not self._consume("inity"):
                raise _SyntaxError("value", self.pos)
            return -math.inf if minus else math.inf
        else:
            raise _SyntaxError("value", self.pos)
        if self._peek() == ".":
            self.pos += 1
            if not self._digits():
                raise _SyntaxError("fraction", self.pos)
        if self._peek() in ("e", "E"):
            self.pos += 1
            if self._peek() in ("+", "-"):
                self.pos += 1
            if not self._digits():
                raise _SyntaxError("exponent", self.pos)
        try:
            return _parse_number(self.text[start : self.pos])
        except OverflowError:
            raise _SyntaxError("too_big", start) from None


_SIMPLE_ESCAPES = {
    '"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"
}
# The error rapidjson reports when the input ends in each parser state.
_END_ERRORS = {
    "start": "empty",
    "object_start": "name",
    "member_delimiter": "name",
    "member_name": "colon",
    "value": "value",
    "member_value": "object_comma",
    "array_start": "value",
    "element_delimiter": "value",
    "element": "array_comma",
}


# --------------------------------------------------------------------------------------------
# JSON values -> tensors.
# --------------------------------------------------------------------------------------------

_INT32_TYPES = (types_pb2.DT_INT32, types_pb2.DT_INT16, types_pb2.DT_INT8, types_pb2.DT_UINT8)
_NUMPY_TYPES = {
    types_pb2.DT_FLOAT: np.float32,
    types_pb2.DT_DOUBLE: np.float64,
    types_pb2.DT_INT32: np.int32,
    types_pb2.DT_INT16: np.int16,
    types_pb2.DT_INT8: np.int8,
    types_pb2.DT_UINT8: np.uint8,
    types_pb2.DT_INT64: np.int64,
    types_pb2.DT_BOOL: np.bool_,
    types_pb2.DT_UINT32: np.uint32,
    types_pb2.DT_UINT64: np.uint64,
    types_pb2.DT_STRING: object,
}


def _is_int(value, low, high):
    return type(value) is int and low <= value < high


def _type_error(value, dtype):
    return ServingError.invalid_argument(
        f"JSON Value: {debug_string(value)} Type: {json_type_name(value)}"
        f" is not of expected type: {dtype_name(dtype)}"
    )


def _convert_scalar(value, dtype):
    """`AddValueToTensor`: one JSON scalar as a value of `dtype`."""
    if dtype in (types_pb2.DT_FLOAT, types_pb2.DT_DOUBLE):
        ok = type(value) in (int, float)
    elif dtype in _INT32_TYPES:
        ok = _is_int(value, -(2**31), 2**31)
    elif dtype == types_pb2.DT_STRING:
        ok = isinstance(value, str)
        if ok:
            return value.encode("utf-8", "surrogateescape")
    elif dtype == types_pb2.DT_INT64:
        ok = _is_int(value, -(2**63), 2**63)
    elif dtype == types_pb2.DT_BOOL:
        ok = isinstance(value, bool)
    elif dtype == types_pb2.DT_UINT32:
        ok = _is_int(value, 0, 2**32)
    elif dtype == types_pb2.DT_UINT64:
        ok = _is_int(value, 0, 2**64)
    else:
        raise ServingError.unimplemented(
            f"Conversion of JSON Value: {debug_string(value)} to type: {dtype_name(dtype)}"
        )
    if not ok:
        raise _type_error(value, dtype)
    return value


def is_base64_object(value):
    """True for `{"b64": "<string>"}` with no other member."""
    return (
        isinstance(value, dict)
        and len(members(value)) == 1
        and isinstance(value.get(BASE64_KEY), str)
    )


_BASE64_PATTERN = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def _decode_base64(value):
    """`JsonDecodeBase64Object`: the bytes of a `{"b64": ...}` object (standard alphabet)."""
    if not is_base64_object(value):
        raise format_error(value, "not formatted correctly for base64 data")
    text = re.sub(r"[ \t\n\r\f\v]", "", value[BASE64_KEY])
    data = text.rstrip("=")
    if not _BASE64_PATTERN.fullmatch(text) or len(data) % 4 == 1:
        raise ServingError.invalid_argument("Unable to base64 decode")
    try:
        return base64.b64decode(data + "=" * (-len(data) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ServingError.invalid_argument("Unable to base64 decode") from None


def dense_shape(value):
    """`GetDenseTensorShape`: the shape implied by following the first element of each list."""
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape


def _shape_string(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


def _fill_values(value, level, shape, dtype, out):
    """`FillTensorProto`: checks `value` is a dense tensor of `shape` and appends its values."""
    rank = len(shape)
    if not isinstance(value, list):
        if level != rank:
            raise ServingError.invalid_argument(
                f"JSON Value: {debug_string(value)} found at incorrect level: {level + 1}"
                f" in the JSON DOM. Expected at level: {rank}"
            )
        if isinstance(value, dict):
            if dtype != types_pb2.DT_STRING:
                raise _type_error(value, dtype)
            out.append(_decode_base64(value))
        else:
            out.append(_convert_scalar(value, dtype))
        return
    if level >= rank:
        raise ServingError.invalid_argument(
            f"Encountered list at unexpected level: {level} expected < {rank}"
        )
    if len(value) != shape[level]:
        raise ServingError.invalid_argument(
            f"Encountered list at unexpected size: {len(value)} at level: {level}"
            f" expected size: {shape[level]}"
        )
    if level == rank - 1 and _extend_with_plain_values(value, dtype, out):
        return
    for item in value:
        _fill_values(item, level + 1, shape, dtype, out)


# Python types of JSON scalars each dtype takes as they are, and the integer range it allows.
_PLAIN_TYPES = {
    types_pb2.DT_FLOAT: ({float, int}, None),
    types_pb2.DT_DOUBLE: ({float, int}, None),
    types_pb2.DT_BOOL: ({bool}, None),
    types_pb2.DT_INT64: ({int}, (-(2**63), 2**63)),
    types_pb2.DT_UINT32: ({int}, (0, 2**32)),
    types_pb2.DT_UINT64: ({int}, (0, 2**64)),
    **{dtype: ({int}, (-(2**31), 2**31)) for dtype in _INT32_TYPES},
}


def _extend_with_plain_values(values, dtype, out):
    """Appends a list of scalars in one step when all of them are valid for `dtype`.

    Returns False (appending nothing) when some value needs the element-wise path, which
    also finds the first invalid value for the error message.
    """
    if dtype == types_pb2.DT_STRING:
        if not set(map(type, values)) <= {str}:
            return False
        out.extend(v.encode("utf-8", "surrogateescape") for v in values)
        return True
    allowed, bounds = _PLAIN_TYPES.get(dtype, (set(), None))
    if not values or not set(map(type, values)) <= allowed:
        return False
    if bounds is not None and not (bounds[0] <= min(values) and max(values) < bounds[1]):
        return False
    out.extend(values)
    return True


def _tensor_values(value, dtype):
    """The shape and flat values of one JSON tensor, or the `json_tensor.cc` error."""
    shape = dense_shape(value)
    values = []
    try:
        _fill_values(value, 0, shape, dtype, values)
    except RecursionError:
        raise ServingError.invalid_argument("JSON Value nested too deeply") from None
    return shape, values


def _to_array(name, values, shape, dtype):
    numpy_type = _NUMPY_TYPES[dtype]
    if numpy_type is object:
        array = np.empty(len(values), dtype=object)
        array[:] = values
    elif np.issubdtype(numpy_type, np.integer):
        # Values go through the proto's int fields: narrower types wrap as a C++ cast does.
        wide = np.uint64 if numpy_type == np.uint64 else np.int64
        array = np.array(values, dtype=wide).astype(numpy_type)
    else:
        with np.errstate(over="ignore"):  # a double past float32's range is inf, as in C++
            array = np.array(values, dtype=numpy_type)
    if array.size != math.prod(shape):
        raise ServingError.invalid_argument(f"tensor parsing error: {name}")
    return array.reshape(shape)


def _is_element_object(value):
    return isinstance(value, dict) and not is_base64_object(value)


def _tensors_from_instances(instances, input_dtypes):
    """`FillTensorMapFromInstancesList`: the row format."""
    names = sorted(input_dtypes)
    if not isinstance(instances[0], dict) and len(names) > 1:
        raise ServingError.invalid_argument(
            "instances is a plain list, but expecting list of objects as multiple input"
            " tensors required as per tensorinfo_map"
        )
    elements_are_objects = _is_element_object(instances[0])
    values, shapes, sizes = {}, {}, {}

    def add_item(item, name):
        if name not in input_dtypes:
            raise ServingError.invalid_argument(
                f"JSON object: does not have named input: {name}"
            )
        shape, item_values = _tensor_values(item, input_dtypes[name])
        values.setdefault(name, []).extend(item_values)
        if name not in sizes:
            sizes[name], shapes[name] = len(item_values), shape
        elif sizes[name] != len(item_values):
            raise ServingError.invalid_argument(
                f"Expecting tensor size: {sizes[name]} but got: {len(item_values)}"
            )
        elif shapes[name] != shape:
            raise ServingError.invalid_argument(
                f"Expecting shape {_shape_string(shapes[name])} but got: {_shape_string(shape)}"
            )

    for index, element in enumerate(instances):
        if elements_are_objects:
            if not _is_element_object(element):
                raise ServingError.invalid_argument(
                    f"Expecting object but got list at item {index} of input list"
                )
            keys = set()
            for name, item in members(element):
                keys.add(name)
                try:
                    add_item(item, name)
                except ServingError as error:
                    raise ServingError.invalid_argument(
                        f"Failed to process element: {index} key: {name} of 'instances' list."
                        f" Error: {error}"
                    ) from None
            if keys != set(names):
                raise ServingError.invalid_argument(
                    f"Failed to process element: {index} of 'instances' list. JSON object:"
                    f" {debug_string(element)} keys must be equal to: {','.join(names)}"
                )
        else:
            if _is_element_object(element):
                raise ServingError.invalid_argument(
                    f"Expecting value/list but got object at item {index} of input list"
                )
            try:
                add_item(element, names[0])
            except ServingError as error:
                raise ServingError.invalid_argument(
                    f"Failed to process element: {index} of 'instances' list. Error: {error}"
                ) from None
    count = len(instances)
    return {
        name: _to_array(name, values[name], [count, *shapes[name]], input_dtypes[name])
        for name in values
    }


def _tensors_from_inputs(inputs, input_dtypes):
    """`FillTensorMapFromInputsMap`: the columnar format."""
    names = sorted(input_dtypes)
    if not isinstance(inputs, dict) or is_base64_object(inputs):
        if len(names) > 1:
            raise ServingError.invalid_argument(
                "inputs is a plain value/list, but expecting an object as multiple input"
                " tensors required as per tensorinfo_map"
            )
        named = {names[0]: inputs}
    else:
        named = {}
        for name in names:
            if name not in inputs:
                raise ServingError.invalid_argument(
                    f"Missing named input: {name} in 'inputs' object."
                )
            named[name] = inputs[name]
    tensors = {}
    for name, value in named.items():
        shape, values = _tensor_values(value, input_dtypes[name])
        tensors[name] = _to_array(name, values, shape, input_dtypes[name])
    return tensors


def read_signature_name(document):
    """`FillSignature`: the optional `signature_name` of a request ("" when absent)."""
    if SIGNATURE_KEY not in document:
        return ""
    name = document[SIGNATURE_KEY]
    if not isinstance(name, str):
        raise format_error(
            document, "not formatted correctly. 'signature_name' key must be a string value."
        )
    return name


class PredictRequestJson:
    """A parsed `:predict` body.

    Attributes:
        signature_name: str, as given ("" for the default signature).
        inputs: dict of input name -> numpy array of the signature's dtype (`object` arrays
            of `bytes` for DT_STRING).
        request_format: `RequestFormat`, which decides the shape of the answer.
    """

    def __init__(self, signature_name, inputs, request_format):
        self.signature_name = signature_name
        self.inputs = inputs
        self.request_format = request_format


def parse_predict_request(body, input_dtypes_for):
    """`FillPredictRequestFromJson`: a `:predict` body as named numpy arrays.

    Args:
        body: bytes, the HTTP request body.
        input_dtypes_for: callable taking the requested signature name ("" for the default)
            and returning a dict of input name -> `DataType` enum; it raises `ServingError`
            for an unknown model, version or signature.

    Returns:
        `PredictRequestJson`.

    Raises:
        ServingError: INVALID_ARGUMENT (or UNIMPLEMENTED for an input dtype JSON cannot
            carry) with the stock server's message, or whatever `input_dtypes_for` raises.
    """
    document = parse_json_object(body)
    signature_name = read_signature_name(document)
    input_dtypes = input_dtypes_for(signature_name)
    if not input_dtypes:
        raise ServingError.invalid_argument(
            f"Failed to get input map for signature: {signature_name or 'DEFAULT'}"
        )
    if ROW_KEY in document:
        if COLUMNAR_KEY in document:
            raise format_error(
                document,
                "Not formatted correctly expecting only one of 'inputs' or 'instances' keys"
                " to exist ",
            )
        instances = document[ROW_KEY]
        if not isinstance(instances, list):
            raise format_error(document, "Expecting 'instances' to be an list/array")
        if not instances:
            raise format_error(document, "No values in 'instances' array")
        return PredictRequestJson(
            signature_name, _tensors_from_instances(instances, input_dtypes), RequestFormat.ROW
        )
    if COLUMNAR_KEY in document:
        return PredictRequestJson(
            signature_name,
            _tensors_from_inputs(document[COLUMNAR_KEY], input_dtypes),
            RequestFormat.COLUMNAR,
        )
    raise ServingError.invalid_argument("Missing 'inputs' or 'instances' key")


# --------------------------------------------------------------------------------------------
# tf.Example requests (:classify, :regress).
# --------------------------------------------------------------------------------------------


def _incompatible_feature(name, feature):
    kind = {"bytes_list": "bytes", "float_list": "float", "int64_list": "int64"}.get(
        feature.WhichOneof("kind"), "UNKNOWN"
    )
    return ServingError.invalid_argument(
        f"Unexpected element type in feature: {name} expecting type: {kind}"
    )


def _add_feature_value(value, name, feature):
    """`AddValueToFeature`: one JSON value appended to a `tf.train.Feature`."""

    def check_kind(kind):
        if feature.WhichOneof("kind") not in (None, kind):
            raise _incompatible_feature(name, feature)

    if value is None or isinstance(value, list) or (
        isinstance(value, dict) and not is_base64_object(value)
    ):
        raise ServingError.invalid_argument(
            f"Feature: {name} has element with unexpected JSON type: {json_type_name(value)}"
        )
    if isinstance(value, bool):
        check_kind("int64_list")
        feature.int64_list.value.append(int(value))
    elif isinstance(value, dict):
        check_kind("bytes_list")
        feature.bytes_list.value.append(_decode_base64(value))
    elif isinstance(value, str):
        check_kind("bytes_list")
        feature.bytes_list.value.append(value.encode("utf-8", "surrogateescape"))
    elif isinstance(value, float):
        check_kind("float_list")
        feature.float_list.value.append(value)
    else:
        check_kind("int64_list")
        if value >= 2**63:
            raise ServingError.invalid_argument(
                f"Feature: {name} has uint64_t element. Only int64_t is supported."
            )
        feature.int64_list.value.append(value)


def _example_from_json(value):
    """`MakeExampleFromJsonObject`: a JSON object of features as a `tf.train.Example`."""
    if not isinstance(value, dict):
        raise ServingError.invalid_argument(
            f"Example must be JSON object but got JSON {json_type_name(value)}"
        )
    example = example_pb2.Example()
    for name, content in members(value):
        feature = feature_pb2.Feature()
        for item in content if isinstance(content, list) else [content]:
            _add_feature_value(item, name, feature)
        example.features.feature[name].CopyFrom(feature)
    return example


class ExamplesRequestJson:
    """A parsed `:classify` / `:regress` body.

    Attributes:
        signature_name: str, as given ("" for the default signature).
        examples: list of `tf.train.Example`.
        context: `tf.train.Example` or None, features shared by every example.
    """

    def __init__(self, signature_name, examples, context):
        self.signature_name = signature_name
        self.examples = examples
        self.context = context


def parse_classify_regress_request(body):
    """`FillClassifyRegressRequestFromJson`: a `:classify` / `:regress` body as Examples.

    Args:
        body: bytes, the HTTP request body.

    Returns:
        `ExamplesRequestJson`.

    Raises:
        ServingError: INVALID_ARGUMENT with the stock server's message.
    """
    document = parse_json_object(body)
    signature_name = read_signature_name(document)
    context = _example_from_json(document["context"]) if "context" in document else None
    if "examples" not in document:
        raise format_error(
            document, "When method is classify, key 'examples' is expected and was not found"
        )
    examples = document["examples"]
    if not isinstance(examples, list):
        raise format_error(document, "Expecting 'examples' value to be an list/array")
    if not examples:
        raise format_error(document, "'examples' value is an empty array")
    return ExamplesRequestJson(
        signature_name, [_example_from_json(item) for item in examples], context
    )
