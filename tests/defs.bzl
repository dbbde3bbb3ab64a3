"""One cc_test per source file, with GoogleTest and the given deps."""

def argo_test(name, deps = [], size = "small", srcs = None, **kwargs):
    """`srcs` defaults to `name`.cc; a second build of one file names it."""
    native.cc_test(
        name = name,
        srcs = srcs if srcs != None else [name + ".cc"],
        size = size,
        deps = deps + [
            "@system//:gtest",
            "@system//:gtest_main",
        ],
        **kwargs
    )
