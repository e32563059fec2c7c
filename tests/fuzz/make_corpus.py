#!/usr/bin/env python3
"""Writes the seed corpus of keyspace_fuzz (tests/fuzz/corpus/): a few dozen small, deterministic inputs per
target (see the layout at the top of keyspace_fuzz.cpp). Byte 0 picks the target (0 growable bitmap, 1 fixed
bitmap, 2-3 tracker); the tracker's next bytes pick its kind (bit 0 hierarchical, bit 1 bounded, bit 2 flat pairs).
Re-run after changing the decoder: python3 tests/fuzz/make_corpus.py"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")


def ops(rng, count, op_modulus):
    """count operations, each an opcode followed by a few argument bytes (small IDs mostly)."""
    out = bytearray()
    for _ in range(count):
        out.append(rng.randrange(op_modulus))
        for _ in range(rng.randrange(2, 8)):
            out.append(rng.choice([0, 1, 2, 3, 5, 7, rng.randrange(256)]))
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.remove(os.path.join(OUT, name))
    rng = random.Random(20261121)
    files = {}
    # Bitmaps: growable (0) and fixed (1), initial capacity bytes, then operations.
    for target in (0, 1):
        for k in range(8):
            body = bytearray([target, rng.randrange(1, 4), rng.randrange(256), rng.randrange(256)])
            body += ops(rng, 8 + 6 * k, 18)
            files[f"bitmap{target}_{k:02d}"] = body
    # Trackers: every kind (simple/hierarchical x unbounded/bounded x table/flat), then operations.
    for kind in range(8):
        for k in range(4):
            body = bytearray([2, kind, rng.randrange(256), rng.randrange(128), rng.randrange(1, 4)])
            body += ops(rng, 6 + 5 * k, 16)
            files[f"tracker{kind}_{k:02d}"] = body
    # Hand-written: fill a small bounded tracker with ascending claims, then wrap around it.
    files["tracker_write_wrap"] = bytes([2, 2, 10, 1, 12, 0x80 | 0x20, 0, 200, 1])
    files["tracker_erase_all"] = bytes([2, 2, 10, 1, 4, 0, 0, 0, 0, 20, 13, 0, 0])
    for name, body in files.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(bytes(body))
    print(f"wrote {len(files)} inputs to {OUT}")


if __name__ == "__main__":
    main()
