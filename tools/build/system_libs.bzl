"""A repository rule that turns Debian's pkg-config files into cc_library
targets, so link flags are never kept by hand (BUILD_NOTES: the short -l list
misses absl::debian3 symbols; the full pkg-config list links)."""

def _pkg_config(ctx, args):
    result = ctx.execute(["pkg-config"] + args)
    if result.return_code != 0:
        fail("pkg-config %s failed (run ./argo setup?): %s" % (" ".join(args), result.stderr))
    return result.stdout.strip().split(" ") if result.stdout.strip() else []

def _system_libs_impl(ctx):
    lines = ['package(default_visibility = ["//visibility:public"])', ""]
    for name, modules in ctx.attr.libraries.items():
        # Libraries Debian ships without a .pc file go first (they need the
        # pkg-config ones after them).
        linkopts = ctx.attr.extra_linkopts.get(name, []) + _pkg_config(ctx, ["--libs"] + modules)
        defines = []
        for flag in _pkg_config(ctx, ["--cflags"] + modules):
            if flag.startswith("-D"):
                defines.append(flag[2:])
        lines.append("cc_library(")
        lines.append('    name = "%s",' % name)
        lines.append("    linkopts = %s," % repr(linkopts))
        lines.append("    defines = %s," % repr(defines))
        lines.append(")")
        lines.append("")
    ctx.file("WORKSPACE", "")
    ctx.file("BUILD.bazel", "\n".join(lines))

system_libs = repository_rule(
    implementation = _system_libs_impl,
    attrs = {
        # target name -> pkg-config module names
        "libraries": attr.string_list_dict(mandatory = True),
        # target name -> link flags for libraries without a pkg-config file
        "extra_linkopts": attr.string_list_dict(),
    },
    local = True,
)
