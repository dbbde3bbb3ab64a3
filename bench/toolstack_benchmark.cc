// The control plane's cost (an informational figure, DESIGN §6): one
// argoctl-style `connect` + `disconnect` round trip through the daemon's
// real unix socket — listener with its SO_PEERCRED check, gRPC server,
// platform, table — measured in wall time against CPUID.
#include <stdlib.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "grpcpp/grpcpp.h"
#include "toolstack_api/server.h"
#include "toolstack_api/toolstack.grpc.pb.h"
#include "toolstack_api/unix_listener.h"

namespace argo::bench {
namespace {

using toolstack::v1::ConnectRequest;
using toolstack::v1::ConnectResponse;
using toolstack::v1::DisconnectRequest;
using toolstack::v1::DisconnectResponse;

// One daemon for the whole run: platform, server and socket listener.
struct Daemon {
  Daemon() {
    char dir_template[] = "/tmp/argo-bench-XXXXXX";
    dir = mkdtemp(dir_template);
    socket = dir + "/hv.sock";
    platform = *toolstack::Platform::Create({});
    server = *toolstack::ToolstackServer::Start(platform.get(), {});
    listener = *toolstack::UnixListener::Open(socket, {});
    toolstack::ToolstackServer* served = server.get();
    listener->Start([served](int fd) { served->AddConnection(fd); },
                    [](const toolstack::PeerCredentials&) {});
    for (const char* name : {"client", "storage"}) {
      if (!platform->CreateDomain({.name = name}).ok()) std::abort();
    }
    stub = toolstack::v1::Toolstack::NewStub(grpc::CreateChannel(
        "unix:" + socket, grpc::InsecureChannelCredentials()));
  }
  ~Daemon() {
    listener->Stop();
    server->Shutdown(absl::Seconds(1));
    listener.reset();
    unlink((socket + ".lock").c_str());
    rmdir(dir.c_str());
  }
  std::string dir, socket;
  std::unique_ptr<toolstack::Platform> platform;
  std::unique_ptr<toolstack::ToolstackServer> server;
  std::unique_ptr<toolstack::UnixListener> listener;
  std::unique_ptr<toolstack::v1::Toolstack::Stub> stub;
};

void BM_GrpcConnectDisconnect(benchmark::State& state) {
  static Daemon* daemon = new Daemon();
  ConnectRequest connect;
  connect.mutable_from()->mutable_domain()->set_name("client");
  connect.mutable_from()->set_port(7);
  connect.mutable_to()->mutable_domain()->set_name("storage");
  connect.mutable_to()->set_port(80);
  DisconnectRequest disconnect;
  *disconnect.mutable_from() = connect.from();
  for (auto _ : state) {
    ConnectResponse installed;
    DisconnectResponse removed;
    grpc::ClientContext c1, c2;
    c1.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    c2.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!daemon->stub->Connect(&c1, connect, &installed).ok() ||
        !daemon->stub->Disconnect(&c2, disconnect, &removed).ok()) {
      state.SkipWithError("connect/disconnect failed");
      break;
    }
  }
}
BENCHMARK(BM_GrpcConnectDisconnect)->UseRealTime();

}  // namespace
}  // namespace argo::bench
