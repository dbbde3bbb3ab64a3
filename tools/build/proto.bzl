"""C++ (and gRPC) code from a .proto with Debian's protoc.

BUILD_NOTES: Bazel's native cc_proto_library needs a protobuf repository we
cannot fetch offline, so a genrule runs the system protoc (and
grpc_cpp_plugin) instead.
"""

def cc_proto(name, src, grpc = False, deps = [], visibility = None):
    """Makes `name` (messages) and, with grpc, `name`_grpc (the service).

    Args:
      name: the messages' cc_library.
      src: the .proto file in this package.
      grpc: also generate the gRPC service code into `name`_grpc.
      deps: cc_library deps of the messages (other generated protos).
      visibility: of both libraries (the package default if None).
    """
    base = src[:-len(".proto")]
    outs = [base + ".pb.cc", base + ".pb.h"]
    cmd = "protoc --cpp_out=$(GENDIR) "
    if grpc:
        outs += [base + ".grpc.pb.cc", base + ".grpc.pb.h"]
        cmd += ("--grpc_out=$(GENDIR) " +
                "--plugin=protoc-gen-grpc=$$(command -v grpc_cpp_plugin) ")
    native.genrule(
        name = name + "_cc",
        srcs = [src],
        outs = outs,
        cmd = cmd + "$(location " + src + ")",
    )
    native.cc_library(
        name = name,
        srcs = [base + ".pb.cc"],
        hdrs = [base + ".pb.h"],
        deps = deps + ["@system//:protobuf"],
        visibility = visibility,
    )
    if grpc:
        native.cc_library(
            name = name + "_grpc",
            srcs = [base + ".grpc.pb.cc"],
            hdrs = [base + ".grpc.pb.h"],
            deps = [":" + name, "@system//:grpc"],
            visibility = visibility,
        )
