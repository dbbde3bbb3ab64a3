"""One cc_test per source file, with GoogleTest and the given deps."""

def argo_test(name, deps = [], size = "small", **kwargs):
    native.cc_test(
        name = name,
        srcs = [name + ".cc"],
        size = size,
        deps = deps + [
            "@system//:gtest",
            "@system//:gtest_main",
        ],
        **kwargs
    )
