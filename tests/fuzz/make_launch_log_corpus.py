#!/usr/bin/python3
"""Writes the seed corpus of the launch_log fuzzer (corpus/launch_log/):
saved launch logs in the format toolstack_api/measurement/launch_log.h
writes (valid ones, whose registers replay) and each way one can be
tampered with or malformed. Python's hashlib here only makes seeds; the
daemon's SHA-256 is toolstack_api/measurement/sha256.cc. Small enough for
the fuzzer's -max_len=512. Run from anywhere; rewrites the files it names
and nothing else."""

import hashlib
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus",
                   "launch_log")


def digest(data):
    return hashlib.sha256(data).digest()


def replay(digests):
    reg = bytes(32)
    for d in digests:
        reg = hashlib.sha256(reg + d).digest()
    return reg


def entry(seq, kind, desc, d, time_ns=1700000000000000000):
    quoted = desc.replace("\\", "\\\\").replace('"', '\\"')
    return ('  {"sequence":%d,"time_ns":%d,"kind":"%s","description":"%s",'
            '"digest":"%s"}' % (seq, time_ns, kind, quoted, d.hex()))


def log(reg, entries):
    if not entries:
        return '{"register":"%s","entries":[]}\n' % reg.hex()
    return ('{"register":"%s","entries":[\n' % reg.hex() +
            ",\n".join(entries) + "\n]}\n")


A, B = digest(b"config"), digest(b"policy")
GOOD2 = log(replay([A, B]), [entry(1, "config", "c.textproto", A),
                             entry(2, "policy", "p", B)])

SEEDS = {
    "empty_log": log(bytes(32), []),
    "one_entry": log(replay([A]), [entry(1, "relabel", "domain 3 -> s_t", A)]),
    "two_entries": GOOD2,
    "escapes": log(replay([A]), [entry(1, "policy-module", 'a "q" \\ b', A)]),
    "negative_time": log(replay([B]), [entry(1, "capability", "", B,
                                             -9223372036854775808)]),
    "pretty": GOOD2.replace(",", ",\n   ").replace(":", ": "),
    "changed_digest": GOOD2.replace(B.hex(), digest(b"policz").hex()),
    "changed_register": GOOD2.replace(replay([A, B]).hex(), "00" * 32),
    "dropped_first": log(replay([A, B]), [entry(2, "policy", "p", B)]),
    "swapped": log(replay([A, B]), [entry(2, "policy", "p", B),
                                    entry(1, "config", "c.textproto", A)]),
    "upper_hex": GOOD2.replace(A.hex(), A.hex().upper()),
    "unknown_kind": GOOD2.replace('"policy"', '"boot"'),
    "truncated": GOOD2[:200],
    "trailing": GOOD2 + "{}",
    "big_numbers": GOOD2.replace('"sequence":2', '"sequence":99999999999999999999'),
    "float_time": GOOD2.replace("1700000000000000000", "1.7e18", 1),
    "bad_escape": GOOD2.replace("c.textproto", "c\\ntextproto"),
    "not_json": "register=00\n",
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, text in SEEDS.items():
        with open(os.path.join(OUT, name), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
