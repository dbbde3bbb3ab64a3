"""One cc_test per file against implicit_dest and the shared world."""

def implicit_test(name, deps = [], size = "small", tags = [], **kwargs):
    native.cc_test(
        name = name,
        srcs = [name + ".cc"],
        size = size,
        tags = tags,
        deps = deps + [
            "//argo_core:abi",
            "//argo_core:hypervisor",
            "//implicit_dest:implicit_table",
            "//implicit_dest/policy:policy_engine",
            "//tests/testing:implicit_world",
            "//tests/testing:raw_guest",
            "@system//:gtest",
            "@system//:gtest_main",
        ],
        **kwargs
    )
