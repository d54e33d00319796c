"""JSON values as rapidjson holds and prints them, for request parsing and error messages.

- `JsonObject` / `members`: an object that repeats a member name keeps every member in order
  (rapidjson's DOM does; lookups see the first, as `FindMember`).
- `quote`, `format_double`: strings and doubles as rapidjson's `Writer` prints them.
- `debug_string`: `JsonValueToDebugString`, the value quoted in the stock server's error
  messages (pretty, single-line arrays, cut at 256 bytes, stops at NaN).
- `format_error`, `make_error_json`: `JSON Value: ... <reason>` and `{"error": ...}` bodies.
"""

import math
import re

from tfgan.serving.errors import ServingError

INDENT = 4
_INDENT = INDENT
_MAX_DEBUG_BYTES = 256


class JsonObject(dict):
    """A JSON object that had repeated member names.

    Lookups see the first member of each name (rapidjson's `FindMember`); `pairs` keeps every
    member in document order for iteration and error messages.
    """

    def __init__(self, pairs):
        super().__init__()
        for key, value in pairs:
            self.setdefault(key, value)
        self.pairs = list(pairs)


def members(obj):
    """Every `(name, value)` member of a parsed JSON object, in document order."""
    return obj.pairs if isinstance(obj, JsonObject) else list(obj.items())



def make_object(pairs):
    """A dict, or a `JsonObject` if `pairs` repeats a name."""
    obj = dict(pairs)
    return obj if len(obj) == len(pairs) else JsonObject(pairs)


_ESCAPE_PATTERN = re.compile(r'["\\\x00-\x1f]')
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
                  "\t": "\\t"}


def quote(text):
    """A JSON string literal escaped as rapidjson's writer does (`\\u001F`, `/` kept)."""
    return '"' + _ESCAPE_PATTERN.sub(
        lambda m: _SHORT_ESCAPES.get(m.group(), "\\u%04X" % ord(m.group())), text
    ) + '"'


def format_double(value):
    """A finite double as rapidjson's `Writer::Double` prints it: `0.5`, `1e30`, `1.5e-7`."""
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    power = int(exponent or 0) - len(fraction)
    stripped = digits.rstrip("0")
    power += len(digits) - len(stripped)
    digits = stripped
    length = len(digits)
    point = length + power  # 10^(point-1) <= value < 10^point
    if 0 <= power and point <= 21:
        text = digits + "0" * power + ".0"
    elif 0 < point <= 21:
        text = digits[:point] + "." + digits[point:]
    elif -6 < point <= 0:
        text = "0." + "0" * -point + digits
    elif length == 1:
        text = f"{digits}e{point - 1}"
    else:
        text = f"{digits[0]}.{digits[1:]}e{point - 1}"
    return sign + text


class _Stop(Exception):
    """The debug writer reached its byte limit or a value it cannot write."""


class _DebugWriter:
    """rapidjson's PrettyWriter with single-line arrays and a byte limit (`JsonWriterWithLimit`)."""

    def __init__(self):
        self.parts = []
        self.size = 0
        self.levels = []  # [is_array, value_count]

    def _put(self, text):
        self.parts.append(text)
        self.size += len(text.encode("utf-8", "surrogateescape"))

    def _event(self):
        if self.size >= _MAX_DEBUG_BYTES:
            raise _Stop()

    def _prefix(self):
        if not self.levels:
            return
        level = self.levels[-1]
        if level[0]:
            if level[1] > 0:
                self._put(", ")
        else:
            if level[1] == 0:
                self._put("\n")
            else:
                self._put(",\n" if level[1] % 2 == 0 else ": ")
            if level[1] % 2 == 0:
                self._put(" " * (_INDENT * len(self.levels)))
        level[1] += 1

    def _scalar(self, token):
        self._event()
        self._prefix()
        if token is None:
            raise _Stop()
        self._put(token)

    def write(self, value):
        if isinstance(value, dict):
            self._event()
            self._prefix()
            self._put("{")
            self.levels.append([False, 0])
            for name, item in members(value):
                self._scalar(quote(name))
                self.write(item)
            self._event()
            empty = self.levels.pop()[1] == 0
            if not empty:
                self._put("\n" + " " * (_INDENT * len(self.levels)))
            self._put("}")
        elif isinstance(value, list):
            self._event()
            self._prefix()
            self._put("[")
            self.levels.append([True, 0])
            for item in value:
                self.write(item)
            self._event()
            self.levels.pop()
            self._put("]")
        else:
            self._scalar(_debug_scalar(value))


def _debug_scalar(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, int):
        return str(value)
    if math.isfinite(value):
        return format_double(value)
    return None  # rapidjson refuses to write NaN/Infinity: output stops here


def debug_string(value):
    """rapidjson's `JsonValueToDebugString`: pretty JSON, single-line arrays, cut at 256 bytes."""
    writer = _DebugWriter()
    try:
        writer.write(value)
    except _Stop:
        pass
    return "".join(writer.parts)


def json_type_name(value):
    """rapidjson's type names, as `JsonTypeString`: Null, False, True, Object, Array, ..."""
    if value is None:
        return "Null"
    if value is True:
        return "True"
    if value is False:
        return "False"
    if isinstance(value, dict):
        return "Object"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, str):
        return "String"
    return "Number"


def format_error(value, *parts):
    """`FormatError`: `JSON Value: <value> <parts...>` as INVALID_ARGUMENT."""
    return ServingError.invalid_argument(f"JSON Value: {debug_string(value)} " + "".join(parts))


def make_error_json(message):
    """The body of an error answer, `{"error": message}`, as `MakeJsonFromStatus` writes it."""
    return "{\n" + " " * _INDENT + '"error": ' + quote(message) + "\n}"

