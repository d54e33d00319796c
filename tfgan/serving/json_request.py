"""JSON requests -> tensors for the REST API, as TF Serving's `util/json_tensor.cc`.

Bodies are read by python-rapidjson, the library the stock server is built on, so malformed
JSON gets rapidjson's own message and byte offset (`JSON Parse error: Invalid value. at offset:
0`). Where the Python binding (a recursive parser) answers differently from the stock server
(rapidjson's iterative parser, `kParseStopWhenDoneFlag`), it is adapted where said: text after
the document is ignored, a document that starts with `]` is "empty", a repeated member name
keeps its first value (`FindMember`). Kept on purpose: bytes that are not UTF-8 and nesting
past Python's recursion limit answer 400 (the stock server reads the first as they are, and a
tensor that deep cannot exist). Every error is a `ServingError` with the stock code and message.
"""

import base64
import binascii
import dataclasses
import math
import re

import numpy as np
import rapidjson
import tensorflow as tf
from tensorflow.core.example import example_pb2, feature_pb2
from tensorflow.core.framework import types_pb2

from tfgan.serving.errors import ServingError, dtype_name, shape_text
from tfgan.serving.json_response import RequestFormat, debug_string

ROW_KEY = "instances"
COLUMNAR_KEY = "inputs"
SIGNATURE_KEY = "signature_name"
BASE64_KEY = "b64"


class JsonObject(dict):
    """A JSON object that repeats a member name: lookups see the first member of each name
    (rapidjson's `FindMember`); `pairs` keeps every member in order, for error messages."""

    def __init__(self, pairs):
        super().__init__(reversed(pairs))
        self.pairs = pairs


def members(obj):
    """Every `(name, value)` member of a parsed JSON object, in document order."""
    return obj.pairs if isinstance(obj, JsonObject) else list(obj.items())


class _Decoder(rapidjson.Decoder):
    """python-rapidjson with the stock parse flags: `NaN` / `Infinity` tokens, integers in the
    int64/uint64 range as ints and others as doubles (rapidjson's DOM), first member wins."""

    def start_object(self):
        return []

    def end_object(self, pairs):
        obj = dict(pairs)
        return obj if len(obj) == len(pairs) else JsonObject(pairs)


_DECODE = _Decoder(number_mode=rapidjson.NM_NAN | rapidjson.NM_NATIVE)
_PARSE_ERROR = re.compile(r"Parse error at offset (\d+): (.*)", re.DOTALL)
_TRAILING_TEXT = "The document root must not be followed by other values."


def parse_json_object(body):
    """A request body as `json_tensor.cc`'s `ParseJson` reads it: the top-level object (a
    `JsonObject` if it repeats a member name), numbers written as integers in the int64/uint64
    range as `int`, others `float`; rapidjson's message for malformed JSON."""
    if not body:
        raise ServingError.invalid_argument("JSON Parse error: The document is empty")
    try:
        try:
            value = _DECODE(body)
        except rapidjson.JSONDecodeError as error:
            offset, text = _PARSE_ERROR.match(str(error)).groups()
            if text != _TRAILING_TEXT:
                raise
            value = _DECODE(body[: int(offset)])  # the stock parser stops after one value
    except rapidjson.JSONDecodeError as error:
        offset, text = _PARSE_ERROR.match(str(error)).groups()
        if not body[: int(offset)].strip(b" \t\n\r") and body[int(offset):][:1] in b"]},:":
            text = "The document is empty."  # the stock, iterative, parser's word for it
        raise ServingError.invalid_argument(
            f"JSON Parse error: {text} at offset: {offset}") from None
    except UnicodeDecodeError as error:
        raise ServingError.invalid_argument(
            "JSON Parse error: Invalid encoding in string. at offset:"
            f" {error.start} (send UTF-8, or bytes as {{\"b64\": ...}})") from None
    except RecursionError as error:
        offset = _PARSE_ERROR.match(str(error))
        raise ServingError.invalid_argument(
            "JSON Parse error: arrays and objects nested too deeply."
            f" at offset: {offset.group(1) if offset else '?'}") from None
    if not isinstance(value, dict):
        raise format_error(value, "Is not object")
    return value


def json_type_name(value):
    """rapidjson's type names, as `JsonTypeString`: Null, False, True, Object, Array, ..."""
    if value is None or isinstance(value, bool):
        return str(value).replace("None", "Null")
    for kind, name in ((dict, "Object"), (list, "Array"), (str, "String")):
        if isinstance(value, kind):
            return name
    return "Number"


def format_error(value, *parts):
    """`FormatError`: `JSON Value: <value> <parts...>` as INVALID_ARGUMENT."""
    return ServingError.invalid_argument(f"JSON Value: {debug_string(value)} " + "".join(parts))


# --------------------------------------------------------------------------------------------
# JSON values -> tensors.
# --------------------------------------------------------------------------------------------


def _type_error(value, dtype):
    return ServingError.invalid_argument(
        f"JSON Value: {debug_string(value)} Type: {json_type_name(value)}"
        f" is not of expected type: {dtype_name(dtype)}"
    )


def _convert_scalar(value, dtype, out):
    """`AddValueToTensor`: appends one JSON scalar as a value of `dtype`."""
    if not _extend_with_plain_values([value], dtype, out):
        if dtype != types_pb2.DT_STRING and dtype not in _PLAIN_TYPES:
            raise ServingError.unimplemented(
                f"Conversion of JSON Value: {debug_string(value)} to type: {dtype_name(dtype)}")
        raise _type_error(value, dtype)


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
            _convert_scalar(value, dtype, out)
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


# Python types of JSON scalars each dtype takes as they are, and the integer range it allows
# (int8, int16 and uint8 values travel in the proto's int32 field, as in the stock server).
_INT32 = ({int}, (-(2**31), 2**31))
_PLAIN_TYPES = {
    types_pb2.DT_FLOAT: ({float, int}, None),
    types_pb2.DT_DOUBLE: ({float, int}, None),
    types_pb2.DT_BOOL: ({bool}, None),
    types_pb2.DT_INT64: ({int}, (-(2**63), 2**63)),
    types_pb2.DT_UINT32: ({int}, (0, 2**32)),
    types_pb2.DT_UINT64: ({int}, (0, 2**64)),
    types_pb2.DT_INT32: _INT32, types_pb2.DT_INT16: _INT32, types_pb2.DT_INT8: _INT32,
    types_pb2.DT_UINT8: _INT32,
}


def _extend_with_plain_values(values, dtype, out):
    """Appends a list of scalars at once if all are valid for `dtype`, else returns False
    (the element-wise path then finds the first invalid one for the message)."""
    if dtype == types_pb2.DT_STRING:
        if not set(map(type, values)) <= {str}:
            return False
        out.extend(v.encode("utf-8") for v in values)
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
    numpy_type = tf.as_dtype(dtype).as_numpy_dtype
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
        raise ServingError.invalid_argument(
            f"tensor parsing error: {name}: {array.size} values do not fill the shape"
            f" {shape_text(shape)} (every list at one level must have the same length)")
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
                f"Expecting shape {shape_text(shapes[name])} but got: {shape_text(shape)}"
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


@dataclasses.dataclass(frozen=True)
class PredictRequestJson:
    """A parsed `:predict` body: the signature name as given ("" for the default), numpy
    arrays of the signature's dtypes by input name, and the `RequestFormat` of the answer."""

    signature_name: str
    inputs: dict
    request_format: RequestFormat


def parse_predict_request(body, input_dtypes_for):
    """`FillPredictRequestFromJson`: a `:predict` body as a `PredictRequestJson`, from the row
    (`instances`) or columnar (`inputs`) format. `input_dtypes_for` maps the requested
    signature name ("" for the default) to its input name -> `DataType` enum."""
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
    if value is None or isinstance(value, list) or (
        isinstance(value, dict) and not is_base64_object(value)
    ):
        raise ServingError.invalid_argument(
            f"Feature: {name} has element with unexpected JSON type: {json_type_name(value)}"
        )
    kind = ("bytes_list" if isinstance(value, (dict, str))
            else "float_list" if isinstance(value, float) else "int64_list")  # bool: int64
    if feature.WhichOneof("kind") not in (None, kind):
        raise _incompatible_feature(name, feature)
    if isinstance(value, dict):
        value = _decode_base64(value)
    elif isinstance(value, str):
        value = value.encode("utf-8")
    elif kind == "int64_list":
        if value >= 2**63:
            raise ServingError.invalid_argument(
                f"Feature: {name} has uint64_t element. Only int64_t is supported.")
        value = int(value)
    getattr(feature, kind).value.append(value)


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


@dataclasses.dataclass(frozen=True)
class ExamplesRequestJson:
    """A parsed `:classify` / `:regress` body: the signature name as given ("" for the
    default), the `tf.train.Example`s, and the `context` Example shared by all, or None."""

    signature_name: str
    examples: list
    context: object


def parse_classify_regress_request(body):
    """`FillClassifyRegressRequestFromJson`: a `:classify` / `:regress` body as an
    `ExamplesRequestJson`."""
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
