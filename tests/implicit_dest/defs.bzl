"""Tests of implicit_dest: the table, the policy and the shared world."""

load("//tests:defs.bzl", "argo_test")

def implicit_test(name, deps = [], **kwargs):
    argo_test(
        name = name,
        deps = deps + [
            "//argo_core:abi",
            "//argo_core:hypervisor",
            "//implicit_dest:implicit_table",
            "//implicit_dest/policy:policy_engine",
            "//tests/testing:implicit_world",
            "//tests/testing:raw_guest",
            "//tests/testing:runfiles",
        ],
        **kwargs
    )
