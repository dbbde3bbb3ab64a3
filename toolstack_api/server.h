// The gRPC server of one level: the Toolstack service plus the standard
// health and reflection services, with the limits that keep a client from
// growing the daemon's memory: request size, threads, gRPC memory quota,
// streams per connection (and the event bus bounds Watch).
//
// Connections arrive by fd (AddConnection), accepted by the daemon's own
// unix-socket listener after its SO_PEERCRED check, or over loopback TCP
// when asked for; tests use InProcessChannel.
#ifndef TOOLSTACK_API_SERVER_H_
#define TOOLSTACK_API_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "toolstack_api/platform.h"
#include "toolstack_api/toolstack_service.h"

namespace argo::toolstack {

struct ServerLimits {
  // The largest request accepted (a 1 MiB configuration or policy fits).
  int max_request_bytes = 2 << 20;
  int max_threads = 64;
  size_t memory_quota_bytes = size_t{256} << 20;
  int max_streams_per_connection = 32;
  int max_idle_connection_ms = 5 * 60 * 1000;
};

struct ServerOptions {
  ServerLimits limits;
  // "": no TCP. Otherwise "127.0.0.1:PORT" or "[::1]:PORT" (loopback only).
  std::string tcp_address;
};

class ToolstackServer {
 public:
  // InvalidArgument for a non-loopback TCP address; Unavailable if the
  // port cannot be bound.
  static absl::StatusOr<std::unique_ptr<ToolstackServer>> Start(
      Platform* platform, ServerOptions options);
  ~ToolstackServer();

  // Serves one accepted connection (takes the fd).
  void AddConnection(int fd);
  std::shared_ptr<grpc::Channel> InProcessChannel();
  // The bound TCP port, 0 if none.
  int tcp_port() const { return tcp_port_; }
  // Ends Watch streams, then stops within `grace`.
  void Shutdown(absl::Duration grace);

 private:
  ToolstackServer(Platform* platform, ServerOptions options);

  Platform& platform_;
  const ServerOptions options_;
  ToolstackService service_;
  std::unique_ptr<grpc::Server> server_;
  int tcp_port_ = 0;
  bool shut_down_ = false;
};

// "127.0.0.1:PORT", "localhost:PORT", "[::1]:PORT" are loopback.
bool IsLoopbackAddress(absl::string_view address);

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_SERVER_H_
