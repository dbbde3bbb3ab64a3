// The toolstack API's generated code and the daemon's gRPC plumbing: the
// service carries the RPCs of DESIGN §6, and the daemon's server on its unix
// socket answers health checks and reflection, so standard gRPC tools can
// find it.
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "toolstack_api/server.h"
#include "toolstack_api/toolstack.grpc.pb.h"
#include "toolstack_api/unix_listener.h"

namespace argo::toolstack {
namespace {

TEST(ToolstackProtoTest, ServiceHasTheRpcsOfTheDesign) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          v1::Toolstack::service_full_name());
  ASSERT_NE(service, nullptr);
  ASSERT_EQ(service->full_name(), "argo.toolstack.v1.Toolstack");
  std::set<std::string> methods;
  for (int i = 0; i < service->method_count(); ++i) {
    methods.insert(service->method(i)->name());
  }
  const std::set<std::string> expected = {
      "CreateDomain", "DestroyDomain", "GetDomain", "ListDomains", "Connect",
      "Disconnect",   "ListCables",    "Explain",   "ListRings",   "GetStats",
      "LoadPolicy",   "GetPolicy",     "Relabel",   "GetAudit",    "Watch",
      "GetTopology",  "Apply",         "IssueAttachToken", "Capture",
      // Issue 10: policy modules, policy tools, the launch log.
      "ListPolicyModules", "AddPolicyModule", "EnablePolicyModule",
      "DisablePolicyModule", "CheckPermission", "ExplainDenials",
      "SuggestRules", "GetMeasurements"};
  EXPECT_EQ(methods, expected);
  EXPECT_TRUE(service->FindMethodByName("Watch")->server_streaming());
  EXPECT_TRUE(service->FindMethodByName("Capture")->server_streaming());
}

// Sends one serialized request on `method` and returns the serialized
// response (the generic stub needs no generated client code).
grpc::Status Call(grpc::Channel* channel, const std::string& method,
                  const std::string& request, std::string* response) {
  grpc::GenericStub stub(channel->shared_from_this());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  grpc::ByteBuffer in(nullptr, 0), out;
  grpc::Slice slice(request);
  in = grpc::ByteBuffer(&slice, 1);
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &in, &out,
                 [&done](grpc::Status s) { done.set_value(s); });
  grpc::Status status = done.get_future().get();
  std::vector<grpc::Slice> slices;
  out.Dump(&slices);
  response->clear();
  for (const grpc::Slice& s : slices) {
    response->append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return status;
}

// Asks the server's reflection service to list its services (one message
// on the bidirectional ServerReflectionInfo stream) and returns the raw
// response bytes.
std::string ListServicesByReflection(
    const std::shared_ptr<grpc::Channel>& channel) {
  grpc::CompletionQueue cq;
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  auto call = stub.PrepareCall(
      &context,
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  auto wait = [&cq](intptr_t expected) {
    void* tag;
    bool ok;
    return cq.Next(&tag, &ok) && ok &&
           reinterpret_cast<intptr_t>(tag) == expected;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  if (!wait(1)) return "";
  // ServerReflectionRequest{list_services: ""}: field 7, length 0.
  grpc::Slice request(std::string("\x3A\x00", 2));
  call->Write(grpc::ByteBuffer(&request, 1), reinterpret_cast<void*>(2));
  if (!wait(2)) return "";
  call->WritesDone(reinterpret_cast<void*>(3));
  if (!wait(3)) return "";
  grpc::ByteBuffer out;
  call->Read(&out, reinterpret_cast<void*>(4));
  if (!wait(4)) return "";
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  wait(5);
  std::vector<grpc::Slice> slices;
  out.Dump(&slices);
  std::string bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return bytes;
}

TEST(ToolstackProtoTest, DaemonServerAnswersHealthAndReflection) {
  // Not under TEST_TMPDIR: Bazel's is longer than a unix socket path may
  // be (107 characters).
  char dir[] = "/tmp/argo-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string socket = std::string(dir) + "/toolstack.sock";
  // The daemon's own pieces: platform, server, listener with peer check.
  auto platform = Platform::Create({});
  ASSERT_TRUE(platform.ok());
  auto server = ToolstackServer::Start(platform->get(), {});
  ASSERT_TRUE(server.ok()) << server.status();
  auto listener = UnixListener::Open(socket, {});
  ASSERT_TRUE(listener.ok()) << listener.status();
  ToolstackServer* served = server->get();
  (*listener)->Start([served](int fd) { served->AddConnection(fd); },
                     [](const PeerCredentials&) {});

  auto channel =
      grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials());
  ASSERT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() +
                                        std::chrono::seconds(10)));

  // grpc.health.v1.Health/Check with an empty request: SERVING (status 1).
  std::string response;
  grpc::Status health =
      Call(channel.get(), "/grpc.health.v1.Health/Check", "", &response);
  ASSERT_TRUE(health.ok()) << health.error_message();
  EXPECT_EQ(response, std::string("\x08\x01", 2));

  // Reflection lists the toolstack service (and health), so grpcurl and
  // friends can discover it.
  const std::string services = ListServicesByReflection(channel);
  EXPECT_NE(services.find("argo.toolstack.v1.Toolstack"), std::string::npos);
  EXPECT_NE(services.find("grpc.health.v1.Health"), std::string::npos);

  // A generic client (no generated code) gets a real answer.
  ASSERT_TRUE(Call(channel.get(), "/argo.toolstack.v1.Toolstack/GetStats", "",
                   &response)
                  .ok());
  v1::Stats stats;
  ASSERT_TRUE(stats.ParseFromString(response));
  EXPECT_EQ(stats.domains(), 0u);

  (*listener)->Stop();
  (*server)->Shutdown(absl::Seconds(1));
  listener->reset();
  EXPECT_NE(access(socket.c_str(), F_OK), 0) << "socket left behind";
  unlink((socket + ".lock").c_str());
  rmdir(dir);
}

TEST(UnixListenerTest, AttachSocketPathSitsBesideTheApiSocket) {
  EXPECT_EQ(AttachSocketPath("/run/argo/argo-hv.sock"),
            "/run/argo/argo-hv-attach.sock");
  EXPECT_EQ(AttachSocketPath("/tmp/x/hv"), "/tmp/x/hv.attach");
  EXPECT_EQ(AttachSocketPath("/tmp/x/hv.socket"), "/tmp/x/hv.socket.attach");
  EXPECT_EQ(AttachSocketPath(".sock"), "-attach.sock");
}

// The attach socket: SOCK_SEQPACKET (one Hello per datagram), owner-only
// and locked like the API socket, its fd handed over without Start.
TEST(UnixListenerTest, AttachSocketIsSeqpacketWithItsOwnLock) {
  char dir[] = "/tmp/argo-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string api = std::string(dir) + "/hv.sock";
  const std::string attach = AttachSocketPath(api);
  auto api_listener = UnixListener::Open(api, {});
  ASSERT_TRUE(api_listener.ok()) << api_listener.status();
  auto attach_listener = UnixListener::Open(attach, {}, SOCK_SEQPACKET);
  ASSERT_TRUE(attach_listener.ok()) << attach_listener.status();
  int type = 0;
  socklen_t len = sizeof(type);
  ASSERT_EQ(getsockopt((*attach_listener)->fd(), SOL_SOCKET, SO_TYPE, &type,
                       &len),
            0);
  EXPECT_EQ(type, SOCK_SEQPACKET);
  ASSERT_EQ(getsockopt((*api_listener)->fd(), SOL_SOCKET, SO_TYPE, &type, &len),
            0);
  EXPECT_EQ(type, SOCK_STREAM);
  struct stat st;
  ASSERT_EQ(stat(attach.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(access((attach + ".lock").c_str(), F_OK), 0);

  // A second daemon is refused the attach socket too.
  auto second = UnixListener::Open(attach, {}, SOCK_SEQPACKET);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find(attach + ".lock"),
            std::string::npos)
      << second.status();
  auto bad_type = UnixListener::Open(std::string(dir) + "/d.sock", {},
                                     SOCK_DGRAM);
  EXPECT_EQ(bad_type.status().code(), absl::StatusCode::kInvalidArgument);

  // A guest connects and its datagram arrives whole.
  const int guest = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  ASSERT_GE(guest, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, attach.data(), attach.size());
  ASSERT_EQ(connect(guest, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
            0);
  const int served = accept4((*attach_listener)->fd(), nullptr, nullptr,
                             SOCK_CLOEXEC);
  ASSERT_GE(served, 0);
  const char hello[] = "hello";
  ASSERT_EQ(send(guest, hello, sizeof(hello), 0),
            static_cast<ssize_t>(sizeof(hello)));
  char got[64];
  EXPECT_EQ(recv(served, got, sizeof(got), 0),
            static_cast<ssize_t>(sizeof(hello)));
  close(served);
  close(guest);

  attach_listener->reset();
  api_listener->reset();
  EXPECT_NE(access(attach.c_str(), F_OK), 0) << "socket left behind";
  unlink((api + ".lock").c_str());
  unlink((attach + ".lock").c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace argo::toolstack
