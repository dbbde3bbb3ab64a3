#include "toolstack_api/server.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/server_posix.h"

namespace argo::toolstack {

bool IsLoopbackAddress(absl::string_view address) {
  for (absl::string_view host : {"127.0.0.1:", "localhost:", "[::1]:"}) {
    if (absl::StartsWith(address, host) && address.size() > host.size()) {
      return true;
    }
  }
  return false;
}

ToolstackServer::ToolstackServer(Platform* platform, ServerOptions options)
    : platform_(*platform), options_(std::move(options)), service_(platform) {}

absl::StatusOr<std::unique_ptr<ToolstackServer>> ToolstackServer::Start(
    Platform* platform, ServerOptions options) {
  if (!options.tcp_address.empty() &&
      !IsLoopbackAddress(options.tcp_address)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TCP address ", options.tcp_address,
        " is not loopback: the toolstack API has no authentication on TCP, "
        "so only 127.0.0.1:PORT, localhost:PORT or [::1]:PORT are served"));
  }
  std::unique_ptr<ToolstackServer> server(
      new ToolstackServer(platform, std::move(options)));
  const ServerLimits& limits = server->options_.limits;

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.RegisterService(&server->service_);
  builder.SetMaxReceiveMessageSize(limits.max_request_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             limits.max_streams_per_connection);
  // Connections left open and idle are closed (a Watch stream is not idle).
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             limits.max_idle_connection_ms);
  grpc::ResourceQuota quota("argo-hv");
  quota.SetMaxThreads(limits.max_threads);
  quota.Resize(limits.memory_quota_bytes);
  builder.SetResourceQuota(quota);
  if (!server->options_.tcp_address.empty()) {
    builder.AddListeningPort(server->options_.tcp_address,
                             grpc::InsecureServerCredentials(),
                             &server->tcp_port_);
  }
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr ||
      (!server->options_.tcp_address.empty() && server->tcp_port_ == 0)) {
    return absl::UnavailableError(absl::StrCat(
        "cannot serve on ", server->options_.tcp_address.empty()
                                ? std::string("(no ports)")
                                : server->options_.tcp_address));
  }
  return server;
}

ToolstackServer::~ToolstackServer() { Shutdown(absl::Seconds(1)); }

void ToolstackServer::AddConnection(int fd) {
  grpc::AddInsecureChannelFromFd(server_.get(), fd);
}

std::shared_ptr<grpc::Channel> ToolstackServer::InProcessChannel() {
  return server_->InProcessChannel(grpc::ChannelArguments());
}

void ToolstackServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  // Watch handlers return once the bus is closed; then nothing is left
  // in flight but short unary calls.
  platform_.events().Close();
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

}  // namespace argo::toolstack
