#include "tests/testing/transport_harness.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace argo::testing {

std::string TestAuthority::TokenFor(domid_t id) {
  return absl::StrCat("ab", absl::Hex(id), "cd");
}

void TestAuthority::SetToken(domid_t id, std::string token) {
  MutexLock l(&mu_);
  tokens_[id] = std::move(token);
}

absl::StatusOr<transport::AttachGrant> TestAuthority::Attach(
    const transport::AttachRequest& request, pid_t pid) {
  if (!absl::holds_alternative<domid_t>(request.domain)) {
    return absl::NotFoundError("the test authority knows domains by id only");
  }
  const domid_t id = absl::get<domid_t>(request.domain);
  std::shared_ptr<GuestMemory> memory = hv_->DomainMemory(id);
  if (memory == nullptr) {
    return absl::NotFoundError(absl::StrCat("no domain with id ", id));
  }
  MutexLock l(&mu_);
  auto token = tokens_.find(id);
  const std::string expected =
      token != tokens_.end() ? token->second : TokenFor(id);
  if (request.token != expected) {
    return absl::PermissionDeniedError("wrong attach token");
  }
  if (attached_.contains(id)) {
    return absl::AlreadyExistsError(
        absl::StrCat("domain ", id, " is attached to pid ", attached_[id]));
  }
  attached_[id] = pid;
  log_.push_back(absl::StrCat(
      "attach ", id,
      request.level_cpus != 0
          ? absl::StrCat(" as a level of ", request.level_cpus, " cpus")
          : std::string()));
  return transport::AttachGrant{id, std::move(memory)};
}

void TestAuthority::Detached(domid_t domid, pid_t pid,
                             transport::DetachReason reason,
                             absl::string_view detail) {
  const bool crash = reason != transport::DetachReason::kEvicted;
  if (crash) (void)hv_->ResetDomain(domid);
  MutexLock l(&mu_);
  attached_.erase(domid);
  if (crash) ++crashes_;
  log_.push_back(absl::StrCat("detach ", domid, " ", static_cast<int>(reason),
                              " ", detail));
}

pid_t TestAuthority::AttachedPid(domid_t id) {
  MutexLock l(&mu_);
  auto it = attached_.find(id);
  return it == attached_.end() ? 0 : it->second;
}

int TestAuthority::crashes() {
  MutexLock l(&mu_);
  return crashes_;
}

std::vector<std::string> TestAuthority::log() {
  MutexLock l(&mu_);
  return log_;
}

absl::StatusOr<std::unique_ptr<TransportHarness>> TransportHarness::Start(
    Hypervisor* hv, transport::VirqSockets* virqs,
    transport::GuestServerOptions options) {
  std::unique_ptr<TransportHarness> h(new TransportHarness(hv));
  char tmpl[] = "/tmp/argo-transport-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp");
  h->dir_ = tmpl;
  h->path_ = h->dir_ + "/attach.sock";
  h->listen_fd_ = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, h->path_.c_str(), h->path_.size());
  if (h->listen_fd_ < 0 ||
      bind(h->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) !=
          0 ||
      listen(h->listen_fd_, 64) != 0) {
    return absl::InternalError("cannot listen on the attach socket");
  }
  absl::StatusOr<std::unique_ptr<transport::GuestServer>> server =
      transport::GuestServer::Start(h->listen_fd_, hv, &h->authority_,
                                    virqs != nullptr ? virqs : &h->own_virqs_,
                                    std::move(options));
  if (!server.ok()) return server.status();
  h->server_ = *std::move(server);
  return h;
}

TransportHarness::~TransportHarness() {
  server_.reset();
  if (listen_fd_ >= 0) close(listen_fd_);
  unlink(path_.c_str());
  rmdir(dir_.c_str());
}

guest::AttachOptions TransportHarness::OptionsFor(domid_t id,
                                                  transport::Mode mode,
                                                  uint32_t vcpus) {
  guest::AttachOptions options;
  options.socket_path = path_;
  options.domain = absl::StrCat(id);
  options.token = TestAuthority::TokenFor(id);
  options.mode = mode;
  options.vcpus = vcpus;
  return options;
}

absl::StatusOr<std::unique_ptr<guest::Attachment>> TransportHarness::Attach(
    domid_t id, transport::Mode mode, uint32_t vcpus) {
  return guest::Attachment::Attach(OptionsFor(id, mode, vcpus));
}

absl::Status TransportWorld::Start(domid_t domains, uint64_t frames) {
  hv = std::make_unique<Hypervisor>(HypervisorOptions{}, &virqs, nullptr);
  for (domid_t d = 1; d <= domains; ++d) {
    absl::Status created = hv->CreateDomain(d, DomainConfig{frames, true});
    if (!created.ok()) return created;
  }
  absl::StatusOr<std::unique_ptr<TransportHarness>> started =
      TransportHarness::Start(hv.get(), &virqs);
  if (!started.ok()) return started.status();
  harness = *std::move(started);
  return absl::OkStatus();
}

void TransportWorld::Stop() {
  harness.reset();
  hv.reset();
}

}  // namespace argo::testing
