#!/usr/bin/python3
"""Writes the seed corpus of the path fuzzer (corpus/path/): well-formed
path blocks (with and without an original payload after them) and each way
a block can be malformed, laid out as argo_core/public/argo_nesting.h says.
Run from anywhere; rewrites the files it names and nothing else."""

import os
import struct

PATH_MAGIC = 0x31504E41  # "ANP1"
DOMID_PARENT = 0x7FF9
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "path")


def hop(port, domid, pad=0):
    # xen_argo_addr_t: aport u32, domain_id u16, pad u16 = 8 bytes.
    return struct.pack("<IHH", port, domid, pad)


def block(hops, magic=PATH_MAGIC, message_type=9, dst_port=7, depth=None,
          version=1, reserved=0):
    # argo_path_header_t: magic, message_type, dst_port u32; depth u8,
    # version u8, reserved u16 = 16 bytes; then the hops.
    if depth is None:
        depth = len(hops)
    return (struct.pack("<IIIBBH", magic, message_type, dst_port, depth,
                        version, reserved) + b"".join(hops))


ONE = [hop(100, 3)]
TWO = [hop(100, 3), hop(7, DOMID_PARENT)]
EIGHT = [hop(10 + i, i) for i in range(8)]

SEEDS = {
    "depth1": block(ONE),
    "depth2_parent_hello": block(TWO) + b"hello",
    "depth8_full": block(EIGHT, message_type=0, dst_port=0),
    "depth8_payload": block(EIGHT) + bytes(range(40)),
    "bad_magic": block(ONE, magic=PATH_MAGIC ^ 1),
    "version0": block(ONE, version=0),
    "version2": block(ONE, version=2),
    "reserved_set": block(ONE, reserved=0x100),
    "depth0": block(ONE, depth=0),
    "depth9": block(EIGHT + [hop(1, 1)]),
    "depth255": block(EIGHT, depth=255),
    "truncated_hops": block(TWO)[:-1],
    "header_only": block([], depth=1),
    "hop_pad_set": block([hop(100, 3), hop(7, 2, pad=1)]),
    "short_header": block(ONE)[:15],
    "empty": b"",
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
