"""A text file compiled into the binary as `absl::string_view fn()`."""

def embedded_text(name, src, function, namespace):
    """Generates `name`.cc defining `namespace::function()` returning `src`.

    Args:
      name: the genrule's name; the output is `name`.cc.
      src: the text file (must not contain the raw-string delimiter).
      function: the C++ function's name.
      namespace: the C++ namespace it lives in.
    """
    native.genrule(
        name = name,
        srcs = [src],
        outs = [name + ".cc"],
        cmd = ("(echo '#include \"absl/strings/string_view.h\"';" +
               " echo 'namespace {ns} {{';" +
               " echo 'absl::string_view {fn}() {{';" +
               " echo '  static const char kText[] = R\"argo_text(';" +
               " cat $(location {src});" +
               " echo ')argo_text\";';" +
               # The raw string opens with the newline echo ended its line
               # with: skip it, so line numbers match the file's.
               " echo '  return absl::string_view(kText + 1);';" +
               " echo '}}';" +
               " echo '}}  // namespace {ns}') > $@").format(
            ns = namespace,
            fn = function,
            src = src,
        ),
    )
