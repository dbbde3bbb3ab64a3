#include "argo_core/guest_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "argo_core/argo_limits.h"

namespace argo {
namespace {

absl::Status OsError(absl::string_view what) {
  return absl::ResourceExhaustedError(
      absl::StrCat("ENOMEM: ", what, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::shared_ptr<GuestMemory>> GuestMemory::Create(
    uint64_t nframes, absl::string_view name) {
  if (nframes == 0 || nframes > kMaxFrames) {
    return absl::InvalidArgumentError(absl::StrCat(
        "guest memory of ", nframes, " frames is outside 1..", kMaxFrames));
  }
  int fd = memfd_create(std::string(name).c_str(),
                        MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return OsError("memfd_create");
  // Sealed against shrinking and growing before anyone else can hold it:
  // a guest process that receives the memfd (DESIGN §8) cannot truncate
  // memory the hypervisor has mapped, which would make its copies fault.
  if (ftruncate(fd, static_cast<off_t>(nframes * kPageSize)) != 0 ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    absl::Status status = OsError("size and seal guest memory");
    close(fd);
    return status;
  }
  return Adopt(fd, nframes);
}

absl::StatusOr<std::shared_ptr<GuestMemory>> GuestMemory::Adopt(
    int memfd, uint64_t nframes) {
  if (nframes == 0 || nframes > kMaxFrames) {
    close(memfd);
    return absl::InvalidArgumentError(absl::StrCat(
        "guest memory of ", nframes, " frames is outside 1..", kMaxFrames));
  }
  void* base = mmap(nullptr, nframes * kPageSize, PROT_READ | PROT_WRITE,
                    MAP_SHARED, memfd, 0);
  if (base == MAP_FAILED) {
    absl::Status status = OsError("mmap guest memory");
    close(memfd);
    return status;
  }
  return std::shared_ptr<GuestMemory>(
      new GuestMemory(memfd, static_cast<uint8_t*>(base), nframes));
}

GuestMemory::~GuestMemory() {
  munmap(base_, size_bytes());
  close(fd_);
}

absl::StatusOr<FrameWindow> GuestMemory::MapFrames(
    absl::Span<const uint64_t> gfns) const {
  return FrameWindow::Map(fd_, gfns);
}

}  // namespace argo
