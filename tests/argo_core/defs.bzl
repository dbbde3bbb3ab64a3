"""One cc_test per file against the core and the shared fixture."""

def argo_core_test(name, deps = [], size = "small", tags = [], **kwargs):
    native.cc_test(
        name = name,
        srcs = [name + ".cc"],
        size = size,
        tags = tags,
        deps = deps + [
            "//argo_core:abi",
            "//argo_core:hypervisor",
            "//argo_core:virq",
            "//tests/testing:argo_fixture",
            "//tests/testing:raw_guest",
            "@system//:gtest",
            "@system//:gtest_main",
        ],
        **kwargs
    )
