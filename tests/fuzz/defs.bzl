"""A libFuzzer target, its fuzzer binary and its corpus-replay test."""

def argo_fuzz_target(name, deps):
    """`name`_fuzz_target.cc defines LLVMFuzzerTestOneInput.

    Makes //tests/fuzz:`name`_fuzzer (build it with --config=fuzz; tools/
    test.sh runs it for a bounded time) and `name`_corpus_replay_test, which
    replays corpus/`name`/ in the normal test run.
    """
    native.cc_library(
        name = name + "_fuzz_target",
        testonly = True,
        srcs = [name + "_fuzz_target.cc"],
        deps = deps,
        alwayslink = True,
    )
    native.cc_binary(
        name = name + "_fuzzer",
        testonly = True,
        linkopts = ["-fsanitize=fuzzer"],
        deps = [":" + name + "_fuzz_target"],
    )
    native.cc_test(
        name = name + "_corpus_replay_test",
        size = "small",
        srcs = ["corpus_replay_test.cc"],
        data = native.glob(["corpus/" + name + "/*"]),
        env = {"CORPUS_DIR": "tests/fuzz/corpus/" + name},
        deps = [
            ":" + name + "_fuzz_target",
            "@system//:gtest",
            "@system//:gtest_main",
        ],
    )
