"""Tensors -> the JSON answers of TF Serving's `util/json_tensor.cc`, without per-value Python.

The stock server writes answers with rapidjson's `PrettyWriter`: the columnar layout puts
every value on its own line, indented four spaces per open container; the row layout writes
each row's arrays on one line. `json_tokens` holds how each value prints (`WriteDecimal` for
floats); this module lays the values out.

The text between two consecutive values depends only on how many arrays close and open between
them, so an answer is its values' tokens, each after one of a few separators. Slab by slab
(16k values), each value's token is a row of bytes (`json_tokens.float32_rows`, made into one
reused buffer, or `token_rows`) that starts with a marker naming the separator before it;
dropping the rows' NUL bytes gives the compact text (markers and tokens), and one
`bytes.replace` per separator, the commonest last, gives the answer. Each step is one C loop
over the slab; no step loops over values in Python. `predict_response` makes the compact text
of the whole answer (~15 MB for the 69 MB columnar answer of 1024 MNIST samples), which fixes
its length, and expands it slab by slab as it is read: the REST server sends each chunk while
the next is expanded, and never holds the whole text.

`make_predict_response` writes `{"predictions": ...}` (row requests) or `{"outputs": ...}`
(columnar requests) exactly as the stock server lays them out.
"""

import dataclasses
import enum
import itertools

import numpy as np

from tfgan.serving import json_tokens
from tfgan.serving.errors import ServingError, datatype_of, dtype_name
from tfgan.serving.json_text import INDENT, quote
from tfgan.serving.json_tokens import python_float_tokens

# Markers are bytes no token or separator holds: one control byte (not "\n") when an answer
# has at most 30 separators, else that byte and one from 0x21 up (up to 30 x 223).
_MARKER_LEADS = np.frombuffer(bytes([b for b in range(1, 32) if b != 0x0A]), np.uint8)
_MARKER_FIRST = 0x21
_MARKER_SPAN = 256 - _MARKER_FIRST
# Bytes of token rows handled at once: enough that Python's per-slab calls cost little, few
# enough that numpy's temporaries stay in the CPU's cache.
_SLAB_BYTES = 1 << 19
# A guess of a string token's bytes, for sizing slabs.
_STRING_BYTES = 256


class RequestFormat(enum.Enum):
    """How a predict request gave its tensors: `ROW` (`instances`) or `COLUMNAR` (`inputs`)."""

    ROW = "row"
    COLUMNAR = "columnar"


def _indent(level):
    return " " * (INDENT * level)


@dataclasses.dataclass
class _Block:
    """How one output's values are written: one array per row (row layout) or the whole tensor.

    Attributes:
        shape: tuple of int, the shape of one block of values.
        opening, closing: str, the text before the block's first value and after its last.
        separators: list of str; `separators[k]` goes between two values when the `k` innermost
            arrays close (and open again) between them.
        empty_text: str or None, the whole block when it holds no value.
    """

    shape: tuple
    opening: str
    closing: str
    separators: list
    empty_text: str = None

    @classmethod
    def pretty(cls, shape, depth):
        """An array written at nesting `depth` by PrettyWriter: one value per line."""
        rank = len(shape)

        def close(axis):
            return "\n" + _indent(depth + axis) + "]"

        def open_(axis):
            return "[\n" + _indent(depth + axis + 1)

        return cls(
            shape=shape,
            opening="".join(open_(a) for a in range(rank)),
            closing="".join(close(a) for a in reversed(range(rank))),
            separators=[
                "".join(close(a) for a in range(rank - 1, rank - 1 - k, -1))
                + ",\n" + _indent(depth + rank - k)
                + "".join(open_(a) for a in range(rank - k, rank))
                for k in range(rank)
            ],
            empty_text=_empty_text(shape, depth, False) if 0 in shape else None,
        )

    @classmethod
    def single_line(cls, shape):
        """An array written on one line (rapidjson's `kFormatSingleLineArray`)."""
        rank = len(shape)
        return cls(shape=shape, opening="[" * rank, closing="]" * rank,
                   separators=["]" * k + ", " + "[" * k for k in range(rank)],
                   empty_text=_empty_text(shape, 0, True) if 0 in shape else None)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def separator_indices(self):
        """For each value of a block, the index of the separator before it: `len(shape)` for
        the first, else the number of arrays that close before it."""
        counts = np.zeros(self.size, np.uint8)
        period = 1
        for dim in reversed(self.shape[1:]):
            period *= dim
            counts[::period] += 1
        counts[0] = len(self.shape)
        return counts


def _empty_text(shape, depth, single_line):
    """An array with no values (a dimension is 0), as `AddTensorValues` writes it."""
    if shape[0] == 0:
        return "[]"
    child = _empty_text(shape[1:], depth + 1, single_line)
    if single_line:
        return "[" + ", ".join([child] * shape[0]) + "]"
    inner = _indent(depth + 1)
    return ("[\n" + inner + (",\n" + inner).join([child] * shape[0]) + "\n" + _indent(depth)
            + "]")


@dataclasses.dataclass
class _Document:
    """An answer's text around its values: `prefix`, `repeats` units joined by `between`, `suffix`.

    Attributes:
        unit: list of str (text) and int (an output's block of values, by index).
        blocks: list of `_Block`, one per output.
    """

    prefix: str
    unit: list
    repeats: int
    between: str
    suffix: str
    blocks: list


def _document(names, arrays, request_format):
    """`MakeColumnarFormatJsonFromTensors` / `MakeRowFormatJsonFromTensors` as a `_Document`."""
    pad2, pad3 = _indent(2), _indent(3)
    several = len(names) > 1
    if request_format == RequestFormat.COLUMNAR:
        depth = 2 if several else 1
        blocks = [_Block.pretty(array.shape, depth) for array in arrays]
        if not several:
            return _Document('{\n    "outputs": ', [0], 1, "", "\n}", blocks)
        unit = []
        for index, name in enumerate(names):
            unit += [("," if index else "") + f"\n{pad2}{quote(name)}: ", index]
        return _Document('{\n    "outputs": {', unit, 1, "", "\n    }\n}", blocks)
    blocks = [_Block.single_line(array.shape[1:]) for array in arrays]
    batch = arrays[0].shape[0]
    if not several:
        return _Document('{\n    "predictions": [', [0], batch, ", ", "\n    ]\n}", blocks)
    unit = [f"\n{pad2}{{"]
    for index, name in enumerate(names):
        unit += [("," if index else "") + f"\n{pad3}{quote(name)}: ", index]
    unit.append(f"\n{pad2}}}")
    return _Document('{\n    "predictions": [', unit, batch, ",", "\n    ]\n}", blocks)


class PredictResponse:
    """A `:predict` answer's JSON text: `length` bytes, made chunk by chunk as it is iterated.

    Iterate it once; joined, the chunks are the text exactly as the stock server lays it out.

    Attributes:
        length: int, the text's length in bytes.
    """

    def __init__(self, chunks, length):
        self._chunks = iter(chunks)
        self.length = length

    def __iter__(self):
        return self._chunks


class _Answer:
    """One answer: its values' token rows with their markers, and the separators they name.

    Args:
        document: `_Document`.
        tokens: list, per output, in C order: float32 values (formatted slab by slab), uint8
            token rows (`json_tokens.token_rows`) or an object array of `bytes` tokens
            (strings).
    """

    def __init__(self, document, tokens):
        self.document = document
        self.tokens = tokens
        items = []  # the unit with each block opened and closed: str, or ("values", index)
        for item in document.unit:
            block = None if isinstance(item, str) else document.blocks[item]
            if block is None:
                items.append(item)
            elif block.empty_text is not None:
                items.append(block.empty_text)
            else:
                items += [block.opening, ("values", item), block.closing]
        places = [i for i, item in enumerate(items) if not isinstance(item, str)]
        self.order = [items[i][1] for i in places]  # outputs with values, in document order
        if not places:
            unit = "".join(items)
            self.text = (document.prefix + document.between.join([unit] * document.repeats)
                         + document.suffix)
            return
        self.text = None
        head, tail = "".join(items[:places[0]]), "".join(items[places[-1] + 1:])
        separators = [document.prefix + head]  # before the answer's first value
        self.trailer = (tail + document.suffix).encode("utf-8")
        self.ids = []  # per output in `order`: the separator before each value of one block
        counts = []  # how many values each separator precedes
        for position, (place, index) in enumerate(zip(places, self.order)):
            block = document.blocks[index]
            if position == 0:
                first = tail + document.between + head  # before each later unit's first value
            else:
                first = "".join(items[places[position - 1] + 1:place])
            rank = len(block.shape)
            # Separator index k -> id: k arrays close (k < rank) or the block starts (rank).
            by_index = np.array([len(separators) + 1 + k for k in range(rank)]
                                + [len(separators)], np.uint16)
            separators += [first] + block.separators
            indices = block.separator_indices()
            self.ids.append(by_index.take(indices))
            counts += list(zip(by_index.tolist(),
                               (np.bincount(indices, minlength=rank + 1)
                                * document.repeats).tolist()))
        counts += [(0, 1), (int(self.ids[0][0]), -1)]  # the answer's first value
        if len(separators) > len(_MARKER_LEADS) * _MARKER_SPAN:
            raise ServingError.invalid_argument(
                "Too many outputs and dimensions to write as JSON")
        self.short_markers = len(separators) <= len(_MARKER_LEADS)
        self._buffer = None
        totals = np.zeros(len(separators), np.int64)
        for separator_id, count in counts:
            totals[separator_id] += count
        encoded = [text.encode("utf-8") for text in separators]
        marker_bytes = 1 if self.short_markers else 2
        # What expanding the markers adds to the compact text's length.
        self.growth = int(sum(totals[i] * (len(encoded[i]) - marker_bytes)
                              for i in np.flatnonzero(totals).tolist()))
        # The commonest expansions last, so that the others run over the compact text.
        self.replaces = [(self._marker(i), encoded[i]) for i in sorted(
            np.flatnonzero(totals).tolist(), key=lambda i: totals[i] * len(encoded[i]))]

    def _slab_ids(self, position, start, stop):
        """The separator ids of values `[start, stop)` of the output at `position`."""
        block_ids = self.ids[position]
        if stop <= len(block_ids):
            ids = block_ids[start:stop]
        else:
            ids = block_ids.take(np.arange(start, stop) % len(block_ids))
        if start == 0 and position == 0:
            ids = ids.copy()
            ids[0] = 0
        return ids

    def _marker(self, separator_id):
        if self.short_markers:
            return _MARKER_LEADS[separator_id:separator_id + 1].tobytes()
        return bytes([_MARKER_LEADS[separator_id // _MARKER_SPAN],
                      _MARKER_FIRST + separator_id % _MARKER_SPAN])

    def _compact(self, index, start, stop):
        """The compact text (markers and tokens) of values `[start, stop)` of an output."""
        tokens = self.tokens[index]
        ids = self._slab_ids(self.order.index(index), start, stop)
        if tokens.dtype == object:
            pieces = [None] * (2 * len(ids))
            pieces[0::2] = [self._marker(i) for i in ids.tolist()]
            pieces[1::2] = tokens[start:stop].tolist()
            return b"".join(pieces)
        if tokens.dtype == np.float32:
            if self._buffer is None or len(self._buffer) < stop - start:
                self._buffer = np.empty((stop - start, json_tokens.FLOAT32_WIDTH), np.uint8)
            rows = json_tokens.float32_rows(tokens[start:stop], out=self._buffer[:stop - start])
        else:
            rows = tokens[start:stop]
        if self.short_markers:
            rows[:, 0] = _MARKER_LEADS.take(ids)
        else:
            rows[:, 0] = _MARKER_LEADS.take(ids // _MARKER_SPAN)
            rows[:, 1] = _MARKER_FIRST + ids % _MARKER_SPAN
        # translate drops NULs at ~0.6 ns a byte, numpy's boolean indexing at ~1.5.
        return rows.tobytes().translate(None, b"\0")

    def expand(self, compact):
        for marker, separator in self.replaces:
            compact = compact.replace(marker, separator)
        return compact

    def _width(self, index):
        tokens = self.tokens[index]
        if tokens.dtype == np.float32:
            return json_tokens.FLOAT32_WIDTH
        return tokens.shape[1] if tokens.dtype == np.uint8 else _STRING_BYTES

    def compact_slabs(self):
        """The answer's compact text (markers and tokens), slab by slab: a list of `bytes`."""
        document = self.document
        slabs = []
        if len(self.order) == 1 or document.repeats == 1:
            for index in self.order:
                size = len(self.tokens[index])
                step = max(1, _SLAB_BYTES // self._width(index))
                slabs += [self._compact(index, start, min(size, start + step))
                          for start in range(0, size, step)]
        else:
            # Each output's compact text in its own slabs (whole rows), cut into rows, then
            # the rows' pieces interleaved: row 0's blocks, row 1's, ...
            per_row = [document.blocks[i].size for i in self.order]
            pieces = []
            for position, (index, size) in enumerate(zip(self.order, per_row)):
                step = max(1, _SLAB_BYTES // (self._width(index) * size))
                pieces.append([])
                for start in range(0, document.repeats, step):
                    stop = min(document.repeats, start + step)
                    compact = self._compact(index, start * size, stop * size)
                    pieces[-1] += self._rows(compact, position, start)
            row_bytes = sum(size * self._width(i) for size, i in zip(per_row, self.order))
            step = max(1, _SLAB_BYTES // row_bytes)
            for start in range(0, document.repeats, step):
                rows = zip(*(output[start:start + step] for output in pieces))
                slabs.append(b"".join(piece for row in rows for piece in row))
        return slabs

    def response(self):
        """The answer as a `PredictResponse`: the compact text made, its expansion lazy."""
        if self.text is not None:
            text = self.text.encode("utf-8", "surrogateescape")
            return PredictResponse([text], len(text))
        slabs = self.compact_slabs()
        length = sum(len(slab) for slab in slabs) + self.growth + len(self.trailer)
        return PredictResponse(itertools.chain(map(self.expand, slabs), [self.trailer]), length)

    def _rows(self, compact, position, first_row):
        """The compact text of whole rows of one output, cut at each row's first marker."""
        marker = self._marker(self.ids[position][0])  # (the answer's first value has 0's)
        found = np.frombuffer(compact, np.uint8)
        hits = found[:len(found) - len(marker) + 1] == marker[0]
        if len(marker) == 2:
            hits &= found[1:] == marker[1]
        starts = np.flatnonzero(hits).tolist()
        if first_row == 0 and position == 0:
            starts.insert(0, 0)
        view = memoryview(compact)
        return [view[a:b] for a, b in zip(starts, starts[1:] + [len(compact)])]


def _check_writable(array):
    if not json_tokens.is_writable(array):
        raise ServingError.invalid_argument(
            f"Failed to write JSON value for tensor type: {dtype_name(datatype_of(array))}"
        )


def _check_row_batch(names, arrays):
    """The row format's checks: every output has the same leading dimension; returns it."""
    batch_size = -1
    for name, array in zip(names, arrays):
        if array.ndim == 0:
            raise ServingError.invalid_argument(f"Tensor name: {name} has no shape information ")
        if batch_size >= 0 and batch_size != array.shape[0]:
            raise ServingError.invalid_argument(
                f"Tensor name: {name} has inconsistent batch size: {array.shape[0]}"
                f" expecting: {batch_size}"
            )
        batch_size = array.shape[0]
    return batch_size


def _answer(outputs, request_format):
    """Checks the outputs as `MakeJsonFromTensors` does and formats their tokens: `_Answer`."""
    if not outputs:
        raise ServingError.invalid_argument("Cannot convert empty tensor map to JSON")
    names = sorted(outputs)
    arrays = [np.asarray(outputs[name]) for name in names]
    for array in arrays:
        _check_writable(array)
    several = len(names) > 1
    if request_format == RequestFormat.ROW:
        if _check_row_batch(names, arrays) == 0:
            return _Answer(_Document('{\n    "predictions": []\n}', [], 1, "", "", []), [])
        leaf_depths = [(3 if several else 2) + array.ndim - 1 for array in arrays]
    else:
        leaf_depths = [(2 if several else 1) + array.ndim for array in arrays]
    tokens = [
        json_tokens.string_tokens(name, array, depth).reshape(-1)
        if json_tokens.is_string(array)
        else np.ascontiguousarray(array).reshape(-1) if array.dtype == np.float32
        else json_tokens.token_rows(array)
        for name, array, depth in zip(names, arrays, leaf_depths)
    ]
    return _Answer(_document(names, arrays, request_format), tokens)


def predict_response(outputs, request_format):
    """`MakeJsonFromTensors`: the body of a `:predict` answer, as a `PredictResponse`.

    Every value's token is made here; the separators between them are written as the answer
    is iterated.

    Args:
        outputs: dict of output name -> numpy array (`object` arrays of `bytes` for strings).
        request_format: `RequestFormat` of the request; `ROW` answers `{"predictions": ...}`
            (one entry per batch row; objects per row when there are several outputs),
            `COLUMNAR` answers `{"outputs": ...}`.

    Returns:
        `PredictResponse`: the JSON text exactly as the stock server lays it out.

    Raises:
        ServingError: INVALID_ARGUMENT for an empty map, a rank-0 output or outputs of
            different batch sizes in the row format, or a dtype JSON cannot carry.
    """
    return _answer(outputs, request_format).response()


def encode_predict_response(outputs, request_format):
    """`predict_response` joined: the answer as one `bytes`."""
    return b"".join(predict_response(outputs, request_format))


def make_predict_response(outputs, request_format):
    """`encode_predict_response` as a `str` (non-UTF-8 string outputs surrogate-escaped)."""
    return encode_predict_response(outputs, request_format).decode("utf-8", "surrogateescape")


def answer_stages(outputs, request_format):
    """The writer's steps, for `scripts/bench_serve.py --json_only`.

    Returns:
        dict of name -> callable, each run once already: `tokens` (every value's token row in
        one pass apart, for comparison: the writer makes them slab by slab within `compact`),
        `compact` (the checks, the tokens, the compact text: `predict_response`), `layout`
        (the separators written: iterating it) and `bytes` (the chunks joined, which the REST
        server does not do).
    """
    state = {}

    def tokens():
        for array in outputs.values():
            if not json_tokens.is_string(np.asarray(array)):
                json_tokens.token_rows(np.asarray(array))

    def compact():
        state["answer"] = _answer(outputs, request_format)
        state["slabs"] = state["answer"].compact_slabs()

    def layout():
        answer = state["answer"]
        state["chunks"] = [answer.expand(slab) for slab in state["slabs"]] + [answer.trailer]

    for stage in (tokens, compact, layout):
        stage()
    return {"tokens": tokens, "compact": compact, "layout": layout,
            "bytes": lambda: b"".join(state["chunks"])}


def _score_token(value):
    return python_float_tokens(np.array([value], np.float32))[0].decode("ascii")


def classification_json(result):
    """`MakeJsonFromClassificationResult`: `{"result": [[["label", score], ...], ...]}`."""
    if not result.classifications:
        raise ServingError.invalid_argument("Cannot convert empty ClassificationResults to JSON")
    rows = []
    for classifications in result.classifications:
        pairs = [
            "[" + quote(entry.label) + ", "
            + _score_token(entry.score) + "]"
            for entry in classifications.classes
        ]
        rows.append("[" + ", ".join(pairs) + "]")
    return '{\n    "result": [' + ", ".join(rows) + "\n    ]\n}"


def regression_json(result):
    """`MakeJsonFromRegressionResult`: `{"result": [value, ...]}`."""
    if not result.regressions:
        raise ServingError.invalid_argument("Cannot convert empty RegressionResults to JSON")
    values = [_score_token(regression.value) for regression in result.regressions]
    return '{\n    "result": [' + ", ".join(values) + "]\n}"
