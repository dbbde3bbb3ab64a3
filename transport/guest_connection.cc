#include "transport/guest_connection.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace argo::transport {
namespace {

// A fresh, sealed, zeroed doorbell page.
absl::StatusOr<int> MakeDoorbellMemfd() {
  const int fd = memfd_create("argo-doorbell", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("memfd_create: ", strerror(errno)));
  }
  if (ftruncate(fd, kDoorbellBytes) != 0 ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    const int saved = errno;
    close(fd);
    return absl::ResourceExhaustedError(
        absl::StrCat("doorbell memfd: ", strerror(saved)));
  }
  return fd;
}

}  // namespace

absl::StatusOr<WakeChannel> MakeWakeChannel() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) !=
      0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("socketpair: ", strerror(errno)));
  }
  return WakeChannel{fds[0], fds[1]};
}

// One byte on the daemon's end; never blocks or raises SIGPIPE.
void Wake(int local) {
  const char one = 1;
  [[maybe_unused]] ssize_t n =
      send(local, &one, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

GuestConnection::~GuestConnection() {
  CloseFd(sock);
  for (WakeChannel* w : {&virq, &kick}) {
    CloseFd(w->local);
    CloseFd(w->remote);
  }
  for (WakeChannel& w : answer) {
    CloseFd(w.local);
    CloseFd(w.remote);
  }
  if (doorbell != nullptr) munmap(doorbell, kDoorbellBytes);
  CloseFd(doorbell_fd);
}

absl::Status GuestConnection::PrepareChannels() {
  absl::StatusOr<WakeChannel> made = MakeWakeChannel();
  if (!made.ok()) return made.status();
  virq = *made;
  absl::StatusOr<int> memfd = MakeDoorbellMemfd();
  if (!memfd.ok()) return memfd.status();
  doorbell_fd = *memfd;
  void* page = mmap(nullptr, kDoorbellBytes, PROT_READ | PROT_WRITE,
                    MAP_SHARED, doorbell_fd, 0);
  if (page == MAP_FAILED) {
    return absl::ResourceExhaustedError("cannot map the doorbell page");
  }
  doorbell = static_cast<DoorbellPage*>(page);
  doorbell->header.vcpus = vcpus;
  if (mode != Mode::kLowLatency) return absl::OkStatus();
  made = MakeWakeChannel();
  if (!made.ok()) return made.status();
  kick = *made;
  for (uint32_t v = 0; v < vcpus; ++v) {
    made = MakeWakeChannel();
    if (!made.ok()) return made.status();
    answer[v] = *made;
  }
  return absl::OkStatus();
}

}  // namespace argo::transport
