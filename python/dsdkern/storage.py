"""Compressed storage of pruned models: `save_sparse` / `load_sparse`.

A masked layer's W ⊙ M is stored as in Han et al. (Deep Compression): the kept values in
their own dtype, bit for bit, and per kept value the gap to the previous kept position in a
fixed number of bits chosen per layer (2, 4, 8 or 16, whichever gives the smallest index). A
gap too long for the width is bridged by padding codes. Code 0 is reserved for padding (it
advances by the largest gap and carries no value), so a kept weight whose value is 0 stays
kept: the stream records the mask, not the non-zeros. Every other state_dict entry (biases,
BN buffers, unmasked weights, masks that are not bool) is stored dense and exact.

File layout (little endian):

    magic b"DSDKSPRS" | version u32 | header bytes u32 | payload bytes u64 | crc32 u32 |
    header (UTF-8 JSON) | payload

The CRC-32 covers the header and the payload. The header holds the architecture
fingerprint (the model's state_dict keys in order, with shapes and dtypes) and one record
per stored tensor, which addresses its segments of the payload.
"""
import json
import os
import struct
import zlib

import numpy as np
import torch
from torch import Tensor, nn

from .nn import masked_layers

__all__ = ["save_sparse", "load_sparse"]

_MAGIC = b"DSDKSPRS"
_VERSION = 1
_PREFIX = struct.Struct("<8sIIQI")  # magic, version, header bytes, payload bytes, crc32
_INDEX_BITS = (2, 4, 8, 16)
_READ_CHUNK = 1 << 26  # a corrupt length must not make us allocate it up front


# ---------------------------------------------------------------- relative-index stream

def _encode(gaps: np.ndarray, bits: int) -> np.ndarray:
    """Gap codes (one per kept position, plus padding codes 0) for the `gaps` of increasing
    kept positions."""
    longest = (1 << bits) - 1
    pads = (gaps - 1) // longest
    codes = np.zeros(len(gaps) + int(pads.sum()), dtype=np.uint16 if bits == 16 else np.uint8)
    codes[np.cumsum(pads + 1) - 1] = gaps - longest * pads
    return codes


def _decode_positions(codes: np.ndarray, bits: int) -> np.ndarray:
    """Kept positions of a code stream (inverse of _encode)."""
    padding = codes == 0
    steps = codes.astype(np.int64)
    steps[padding] = (1 << bits) - 1
    return np.cumsum(steps, out=steps)[~padding] - 1


def _index_bytes(gaps: np.ndarray, bits: int) -> int:
    codes = len(gaps) + int(((gaps - 1) // ((1 << bits) - 1)).sum())
    return (codes * bits + 7) // 8


def _pack(codes: np.ndarray, bits: int) -> bytes:
    if bits >= 8:
        return codes.astype("<u2" if bits == 16 else np.uint8).tobytes()
    per_byte = 8 // bits
    padded = np.zeros(-(-len(codes) // per_byte) * per_byte, dtype=np.uint8)
    padded[:len(codes)] = codes
    packed = padded[::per_byte].copy()
    for i in range(1, per_byte):
        packed |= padded[i::per_byte] << (i * bits)
    return packed.tobytes()


def _unpack(data: bytes, bits: int, count: int) -> np.ndarray:
    if bits >= 8:
        return np.frombuffer(data, dtype="<u2" if bits == 16 else np.uint8)
    per_byte = 8 // bits
    packed = np.frombuffer(data, dtype=np.uint8)
    codes = np.empty(len(packed) * per_byte, dtype=np.uint8)
    for i in range(per_byte):
        codes[i::per_byte] = (packed >> (i * bits)) & ((1 << bits) - 1)
    return codes[:count]


# ---------------------------------------------------------------- tensors <-> bytes

def _tensor_bytes(t: Tensor) -> bytes:
    return t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def _tensor_from_bytes(data: bytes, dtype: torch.dtype, shape: list[int]) -> Tensor:
    if not data:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).view(dtype).reshape(shape)


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _fingerprint(model: nn.Module, what: str) -> tuple[dict, list]:
    """(state_dict, [[key, shape, dtype name], ...] in state_dict order); ValueError for an
    entry that is not a plain dense tensor."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"{what}: model must be a torch.nn.Module, got {type(model).__name__}")
    state = model.state_dict()
    for key, value in state.items():
        if not isinstance(value, Tensor):
            raise ValueError(f'{what}: state_dict entry "{key}" is a {type(value).__name__}; '
                             "only tensors can be stored")
        if value.layout != torch.strided or value.is_quantized or value.is_meta:
            raise ValueError(f'{what}: state_dict entry "{key}" is not a dense tensor with '
                             f"values (layout {value.layout}, device {value.device})")
    return state, [[key, list(v.shape), _dtype_name(v.dtype)] for key, v in state.items()]


def _sparse_pairs(model: nn.Module, state: dict) -> dict[str, str]:
    """weight key -> mask key of every masked layer whose W ⊙ M is stored sparse."""
    pairs = {}
    for name, _ in masked_layers(model):
        prefix = name + "." if name else ""
        weight, mask = prefix + "weight", prefix + "mask"
        if (weight in state and mask in state and state[mask].dtype == torch.bool
                and state[weight].is_floating_point()):
            pairs[weight] = mask
    return pairs


# ---------------------------------------------------------------- save

def save_sparse(model: nn.Module, f) -> None:
    """Write `model.state_dict()` to `f` (a path or a writable binary file object), each
    masked layer's W ⊙ M and mask as relative-index CSR, everything else dense.

    Tensors may live on any device (they are copied to the host). The file restores, through
    load_sparse, every entry bit for bit, with the pruned weights as zeros. ValueError for a
    state_dict entry that is not a dense tensor (extra state, sparse or quantized tensors).
    """
    if not isinstance(f, (str, os.PathLike)) and not hasattr(f, "write"):
        raise TypeError(f"save_sparse: f must be a path or a binary file object, got "
                        f"{type(f).__name__}")
    state, keys = _fingerprint(model, "save_sparse")
    pairs = _sparse_pairs(model, state)
    covered = set(pairs.values())
    records, segments, offset = [], [], 0

    def add(data: bytes) -> list[int]:
        nonlocal offset
        segments.append(data)
        offset += len(data)
        return [offset - len(data), len(data)]

    for key, value in state.items():
        if key in covered:
            continue
        if key not in pairs:
            records.append({"key": key, "dense": add(_tensor_bytes(value))})
            continue
        mask = state[pairs[key]].detach().cpu().reshape(-1)
        positions = np.flatnonzero(mask.numpy())
        gaps = np.diff(positions, prepend=-1)
        bits = min(_INDEX_BITS, key=lambda b: _index_bytes(gaps, b))
        codes = _encode(gaps, bits)
        values = value.detach().cpu().reshape(-1)[torch.from_numpy(positions)]
        records.append({"key": key, "mask": pairs[key], "bits": bits, "codes": len(codes),
                        "values": add(_tensor_bytes(values)), "index": add(_pack(codes, bits))})
    header = json.dumps({"keys": keys, "records": records}, separators=(",", ":")).encode()
    crc = zlib.crc32(header)
    for data in segments:
        crc = zlib.crc32(data, crc)
    prefix = _PREFIX.pack(_MAGIC, _VERSION, len(header), offset, crc)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as out:
            out.writelines([prefix, header, *segments])
    else:
        for part in (prefix, header, *segments):
            f.write(part)


# ---------------------------------------------------------------- load

def _read_exact(f, n: int, what: str) -> bytes:
    parts, left = [], n
    while left:
        part = f.read(min(left, _READ_CHUNK))
        if not part:
            raise ValueError(f"load_sparse: file truncated: the {what} needs {n} bytes, "
                             f"only {n - left} are there")
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _read(f) -> tuple[dict, bytes]:
    """(header, payload) of the file, checked for magic, version, length and checksum."""
    prefix = _read_exact(f, _PREFIX.size, "file prefix")
    magic, version, header_bytes, payload_bytes, crc = _PREFIX.unpack(prefix)
    if magic != _MAGIC:
        raise ValueError(f"load_sparse: not a dsdkern sparse file (magic {magic!r}, expected "
                         f"{_MAGIC!r})")
    if version != _VERSION:
        raise ValueError(f"load_sparse: format version {version} is not supported (this "
                         f"dsdkern reads version {_VERSION})")
    header = _read_exact(f, header_bytes, "header")
    payload = _read_exact(f, payload_bytes, "payload")
    if zlib.crc32(payload, zlib.crc32(header)) != crc:
        raise ValueError("load_sparse: checksum mismatch: the file is corrupt")
    try:
        return json.loads(header), payload
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"load_sparse: the header is not valid JSON ({e})") from None


def _check_architecture(file_keys, model_keys) -> None:
    if not isinstance(file_keys, list) or not all(
            isinstance(k, list) and len(k) == 3 and isinstance(k[0], str) for k in file_keys):
        raise ValueError("load_sparse: the header's architecture fingerprint is malformed")
    theirs = {k[0]: k[1:] for k in file_keys}
    ours = {k[0]: k[1:] for k in model_keys}
    problems = []
    if missing := [k for k in ours if k not in theirs]:
        problems.append(f"keys missing from the file: {missing}")
    if unexpected := [k for k in theirs if k not in ours]:
        problems.append(f"keys the model does not have: {unexpected}")
    for key in ours.keys() & theirs.keys():
        if ours[key] != theirs[key]:
            problems.append(f'"{key}" is {theirs[key][1]} {theirs[key][0]} in the file but '
                            f"{ours[key][1]} {ours[key][0]} in the model")
    if problems:
        raise ValueError("load_sparse: the file was made for another architecture: "
                         + "; ".join(problems))


def _segment(payload: bytes, where, nbytes: int, what: str) -> bytes:
    if (not isinstance(where, list) or len(where) != 2
            or not all(isinstance(x, int) and x >= 0 for x in where)
            or where[0] + where[1] > len(payload) or where[1] != nbytes):
        raise ValueError(f"load_sparse: {what} has a bad payload segment {where} (expected "
                         f"{nbytes} bytes within a payload of {len(payload)})")
    return payload[where[0]:where[0] + where[1]]


def _decode_sparse(record: dict, payload: bytes, spec: dict) -> tuple[Tensor, Tensor]:
    """(W ⊙ M, mask) of one relative-index record."""
    key, bits, count = record["key"], record.get("bits"), record.get("codes")
    if bits not in _INDEX_BITS or not isinstance(count, int) or count < 0:
        raise ValueError(f'load_sparse: "{key}": bad index width {bits!r} or code count '
                         f"{count!r}")
    shape, dtype = spec[key]
    if spec[record["mask"]] != (shape, torch.bool):
        raise ValueError(f'load_sparse: "{record["mask"]}" is not a bool mask of the shape of '
                         f'"{key}"')
    codes = _unpack(_segment(payload, record.get("index"), (count * bits + 7) // 8,
                             f'"{key}" index'), bits, count)
    positions = _decode_positions(codes, bits)
    numel = int(np.prod(shape))
    if count and (codes[-1] == 0 or positions[-1] >= numel):
        raise ValueError(f'load_sparse: "{key}": the index runs past the {numel} weights')
    values = _tensor_from_bytes(
        _segment(payload, record.get("values"), len(positions) * dtype.itemsize,
                 f'"{key}" values'), dtype, [len(positions)])
    # numpy's zeros come from calloc, so the pages are not cleared in a pass of their own.
    weight = torch.from_numpy(np.zeros(numel * dtype.itemsize, dtype=np.uint8)).view(dtype)
    weight[torch.from_numpy(positions)] = values
    mask = np.zeros(numel, dtype=np.bool_)
    mask[positions] = True
    return weight.reshape(shape), torch.from_numpy(mask).reshape(shape)


def _decode(header, payload: bytes, model_keys: list) -> dict:
    """The state_dict the file holds, validated against the model's fingerprint."""
    if not isinstance(header, dict):
        raise ValueError("load_sparse: the header is malformed")
    _check_architecture(header.get("keys"), model_keys)
    spec = {key: (shape, getattr(torch, dtype)) for key, shape, dtype in model_keys}
    records = header.get("records")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ValueError("load_sparse: the header's records are malformed")
    state = {}
    for record in records:
        key, mask_key = record.get("key"), record.get("mask")
        if not (isinstance(key, str) and key in spec and key not in state) or (
                mask_key is not None
                and not (isinstance(mask_key, str) and mask_key in spec and mask_key not in state)):
            raise ValueError(f"load_sparse: record for {key!r} / {mask_key!r} names an unknown "
                             "or repeated key")
        shape, dtype = spec[key]
        if mask_key is None:
            data = _segment(payload, record.get("dense"), int(np.prod(shape)) * dtype.itemsize,
                            f'"{key}"')
            state[key] = _tensor_from_bytes(data, dtype, shape)
        else:
            state[key], state[mask_key] = _decode_sparse(record, payload, spec)
    if missing := [key for key in spec if key not in state]:
        raise ValueError(f"load_sparse: the file has no data for {missing}")
    return state


def load_sparse(model: nn.Module, f) -> None:
    """Load a file written by save_sparse into `model` (strict: the same state_dict keys,
    shapes and dtypes), from `f`, a path or a readable binary file object (read from its
    position up to the end of the stored model).

    Tensors are copied into the model's own, on whatever device they are. The whole file is
    checked (magic, version, length, checksum, architecture) and decoded before the model is
    touched: on any problem a ValueError says what is wrong and the model is unchanged.
    """
    _, model_keys = _fingerprint(model, "load_sparse")
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as stream:
            header, payload = _read(stream)
            if trailing := len(stream.read()):
                raise ValueError(f"load_sparse: {trailing} unexpected bytes after the payload")
    elif hasattr(f, "read"):
        header, payload = _read(f)
    else:
        raise TypeError(f"load_sparse: f must be a path or a binary file object, got "
                        f"{type(f).__name__}")
    model.load_state_dict(_decode(header, payload, model_keys), strict=True)
