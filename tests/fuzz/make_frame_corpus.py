#!/usr/bin/python3
"""Writes the seed corpus of the frame fuzzer (corpus/frame/): valid and
invalid Hellos and HypercallFrames, laid out as transport/wire.h says.
Run from anywhere; rewrites the files it names and nothing else."""

import os
import struct

HELLO_MAGIC = 0x6F677261
FRAME_MAGIC = 0x706F6741
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "frame")


def hello(magic=HELLO_MAGIC, version=1, mode=1, vcpus=1, domid=0, name=b"",
          token=b"ab1cd", level_cpus=0, reserved=b""):
    # Hello: magic u32, version u16, mode u8, vcpus u8, domid u32,
    # name[64], token[64], level_cpus u8, reserved[19] = 160 bytes.
    return (struct.pack("<IHBBI", magic, version, mode, vcpus, domid) +
            name.ljust(64, b"\0")[:64] + token.ljust(64, b"\0")[:64] +
            struct.pack("<B", level_cpus) + reserved.ljust(19, b"\0")[:19])


def frame(magic=FRAME_MAGIC, seq=1, cmd=4, vcpu=0, args=(0, 0, 0, 0),
          result=0, reserved=0):
    # HypercallFrame: magic, seq, cmd, vcpu u32; arg[4] u64; result i64;
    # reserved u64 = 64 bytes.
    return (struct.pack("<IIII", magic, seq, cmd, vcpu) +
            struct.pack("<4Q", *args) + struct.pack("<qQ", result, reserved))


SEEDS = {
    "hello_by_id": hello(domid=1),
    "hello_by_name": hello(name=b"web-01_a", token=b"0123456789abcdef"),
    "hello_low_latency_8": hello(mode=2, vcpus=8, domid=7),
    "hello_bad_magic": hello(magic=0x12345678, domid=1),
    "hello_bad_version": hello(version=2, domid=1),
    "hello_bad_mode": hello(mode=3, domid=1),
    "hello_blocking_2_vcpus": hello(vcpus=2, domid=1),
    "hello_low_latency_9_vcpus": hello(mode=2, vcpus=9, domid=1),
    "hello_name_and_id": hello(domid=1, name=b"web"),
    "hello_reserved_domid": hello(domid=0x7FF0),
    "hello_name_unterminated": hello(name=b"a" * 64),
    "hello_bytes_after_name": hello(name=b"web\0x"),
    "hello_upper_name": hello(name=b"Web"),
    "hello_upper_token": hello(domid=1, token=b"ABCD"),
    "hello_empty_token": hello(domid=1, token=b""),
    "hello_reserved_set": hello(domid=1, reserved=b"\1"),
    "hello_level_2": hello(domid=1, level_cpus=2),
    "hello_level_64": hello(name=b"l1", level_cpus=64),
    "hello_level_65": hello(domid=1, level_cpus=65),
    "hello_short": hello(domid=1)[:159],
    "frame_notify": frame(),
    "frame_sendv_vcpu3": frame(seq=0xFFFFFFFF, cmd=3, vcpu=3,
                               args=(0x1000, 0x1100, 2, 0xABCD)),
    "frame_register_wide": frame(cmd=1, args=(0x1000, 0x4000, 1 << 32, 1)),
    "frame_unknown_cmd": frame(cmd=0xFFFFFFFF, result=-5),
    "frame_bad_magic": frame(magic=0),
    "frame_vcpu_8": frame(vcpu=8),
    "frame_reserved_set": frame(reserved=1),
    "frame_long": frame() + b"\0",
    "frame_short": frame()[:63],
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
