"""Tests of argo_core: the core and the shared fixture."""

load("//tests:defs.bzl", "argo_test")

def argo_core_test(name, deps = [], **kwargs):
    argo_test(
        name = name,
        deps = deps + [
            "//argo_core:abi",
            "//argo_core:hypervisor",
            "//argo_core:virq",
            "//tests/testing:argo_fixture",
            "//tests/testing:raw_guest",
        ],
        **kwargs
    )
