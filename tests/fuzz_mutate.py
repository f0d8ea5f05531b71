"""Input generation for fuzzing: byte-level mutations of seed inputs (flips, inserts, deletes,
splices, truncation, tokens of the formats), shared by tests/test_fuzz.py and scripts/fuzz.py."""

from __future__ import annotations

import random

TOKENS = [
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b'"',
    b"null",
    b"true",
    b"-1",
    b"0",
    b"1e309",
    b"NaN",
    b"-0.0",
    b"1e-320",
    b"\n",
    b"\r\n",
    b" ",
    b"\t",
    b"<",
    b">",
    b"</",
    b"/>",
    b"<!--",
    b"&amp;",
    b'<!DOCTYPE a [<!ENTITY e "x">]>',
    b"&e;",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\x00",
    b"\xc3\x28",
    b"names:",
    b"gsd:",
    b"imagesource:",
    b"- ",
    b"!!python/object",
    b"&anchor",
    b"*anchor",
    b"99999999999999999999",
    b"-inf",
    b"inf",
    b"nan",
    b"PK\x03\x04",
    b"\x80\x02",
]


def mutate(seed: bytes, rng: random.Random, rounds: int | None = None) -> bytes:
    """A mutant of `seed`: 1-8 random edits."""
    data = bytearray(seed)
    for _ in range(rounds or rng.randint(1, 8)):
        kind = rng.randrange(7)
        pos = rng.randint(0, len(data))
        if kind == 0 and data:  # flip a bit
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        elif kind == 1:  # insert a token of the formats
            data[pos:pos] = rng.choice(TOKENS)
        elif kind == 2 and data:  # delete a run
            del data[pos : pos + rng.randint(1, 16)]
        elif kind == 3 and data:  # duplicate a run
            i = rng.randrange(len(data))
            data[pos:pos] = data[i : i + rng.randint(1, 64)]
        elif kind == 4:  # truncate
            del data[pos:]
        elif kind == 5 and data:  # overwrite a byte with an interesting one
            data[rng.randrange(len(data))] = rng.choice([0, 0x7F, 0x80, 0xFF, 0x20, 0x2D, 0x2E, 0x30, 0x39])
        else:  # random bytes
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(data)


ODD_VALUES = [
    None,
    True,
    0,
    -1,
    1.5,
    -1e308,
    1e308,
    "",
    "x",
    "-1",
    [],
    {},
    [1, 2],
    {"a": 1},
    [[0, 1]],
    "NaN",
    [None],
    2**63,
    "../../etc/passwd",
    "\u0000",
    "€",
]


def _replace_some(value, rng: random.Random, depth: int = 0):
    """`value` with one of its parts (or itself) replaced by a value of another kind."""
    if depth > 6 or rng.random() < 0.25 or not isinstance(value, (dict, list)) or not value:
        return rng.choice(ODD_VALUES)
    if isinstance(value, dict):
        out = dict(value)
        key = rng.choice(list(out))
        roll = rng.random()
        if roll < 0.15:
            del out[key]
        elif roll < 0.25:
            out[rng.choice(["extra", key + "_", "", "0"])] = rng.choice(ODD_VALUES)
        else:
            out[key] = _replace_some(out[key], rng, depth + 1)
        return out
    out = list(value)
    i = rng.randrange(len(out))
    if rng.random() < 0.15:
        del out[i]
    else:
        out[i] = _replace_some(out[i], rng, depth + 1)
    return out


def mutate_structure(seed: bytes, rng: random.Random) -> bytes | None:
    """A JSON seed with parts replaced by values of other kinds (None when not JSON)."""
    import json

    try:
        value = json.loads(seed)
    except ValueError:
        return None
    for _ in range(rng.randint(1, 3)):
        value = _replace_some(value, rng)
    return json.dumps(value).encode()


def any_mutation(seed: bytes, rng: random.Random) -> bytes:
    """A structural mutation half of the time (JSON seeds), else a byte-level one."""
    if rng.random() < 0.5:
        out = mutate_structure(seed, rng)
        if out is not None:
            return out
    return mutate(seed, rng)
