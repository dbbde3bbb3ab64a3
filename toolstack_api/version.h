// The version argo-hv and argoctl report (start/stop log lines, --version).
#ifndef TOOLSTACK_API_VERSION_H_
#define TOOLSTACK_API_VERSION_H_

namespace argo::toolstack {

inline constexpr const char kArgoVersion[] = "0.4.0";

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_VERSION_H_
