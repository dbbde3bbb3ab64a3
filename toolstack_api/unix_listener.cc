#include "toolstack_api/unix_listener.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace argo::toolstack {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

std::string Mode(mode_t mode) { return absl::StrFormat("%04o", mode & 07777); }

// The socket's directory, created 0700 if missing. Whoever may write in it
// can swap the socket or plant PATH.lock (a symlink, or a file they hold
// locked), so it must be the daemon's own and writable by no one else:
// owner == euid and (mode & 022) == 0, checked on the directory the path
// resolves to. (Its ancestors are the administrator's business.)
absl::Status CheckDirectory(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Errno("cannot create the directory", dir);
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) return Errno("cannot stat", dir);
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the socket's directory ", dir, " is not a directory"));
  }
  if (st.st_uid != geteuid()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the socket's directory ", dir, " (mode ", Mode(st.st_mode),
        ") is owned by uid ", st.st_uid, ", not argo-hv's uid ", geteuid(),
        ": its owner could replace the socket; use a directory of your own "
        "(--socket)"));
  }
  if ((st.st_mode & 022) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the socket's directory ", dir, " has mode ", Mode(st.st_mode),
        ": group or others may write to it and could replace the socket or "
        "its lock; chmod go-w ", dir, " or choose another --socket"));
  }
  return absl::OkStatus();
}

// PATH.lock, never through a symlink (O_NOFOLLOW: one planted there would
// make the daemon create or lock a file of the planter's choosing), and
// only a regular file of the daemon's own.
absl::StatusOr<int> OpenLockFile(const std::string& lock_path) {
  const int fd =
      open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 && errno == ELOOP) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the lock file ", lock_path,
        " is a symbolic link; refusing to follow it (remove it if no argo-hv "
        "of yours made it)"));
  }
  if (fd < 0) return Errno("cannot open", lock_path);
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_uid != geteuid()) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "the lock file ", lock_path,
        " is not a regular file of argo-hv's uid; remove it"));
  }
  return fd;
}

}  // namespace

std::string DefaultSocketPath() {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  if (runtime != nullptr && runtime[0] == '/') {
    return absl::StrCat(runtime, "/argo/argo-hv.sock");
  }
  return "/run/argo/argo-hv.sock";
}

std::string AttachSocketPath(const std::string& api_socket_path) {
  constexpr absl::string_view kSock = ".sock";
  if (absl::EndsWith(api_socket_path, kSock)) {
    return absl::StrCat(
        absl::string_view(api_socket_path)
            .substr(0, api_socket_path.size() - kSock.size()),
        "-attach.sock");
  }
  return absl::StrCat(api_socket_path, ".attach");
}

absl::StatusOr<std::unique_ptr<UnixListener>> UnixListener::Open(
    const std::string& path, std::vector<uid_t> allowed_uids, int type) {
  if (type != SOCK_STREAM && type != SOCK_SEQPACKET) {
    return absl::InvalidArgumentError(absl::StrCat(
        "socket type ", type, " for ", path,
        " is neither SOCK_STREAM nor SOCK_SEQPACKET"));
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("socket path \"", path, "\" is empty or longer than ",
                     sizeof(addr.sun_path) - 1, " bytes"));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? std::string(".")
                          : slash == 0               ? std::string("/")
                                                     : path.substr(0, slash);
  if (absl::Status s = CheckDirectory(dir); !s.ok()) return s;
  const std::string lock_path = path + ".lock";
  absl::StatusOr<int> lock = OpenLockFile(lock_path);
  if (!lock.ok()) return lock.status();
  const int lock_fd = *lock;
  if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    close(lock_fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "another argo-hv is serving ", path,
        " (it holds ", lock_path, "); stop it or choose --socket"));
  }
  // We own the path: whatever socket is there was left by a dead daemon.
  unlink(path.c_str());
  int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    close(lock_fd);
    return Errno("cannot create a socket for", path);
  }
  // Owner-only from the moment it exists (no window with a wider mode).
  const mode_t old_umask = umask(0177);
  const int bound = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  umask(old_umask);
  if (bound != 0 || chmod(path.c_str(), 0600) != 0 || listen(fd, 64) != 0) {
    absl::Status s = Errno("cannot listen on", path);
    close(fd);
    unlink(path.c_str());
    close(lock_fd);
    return s;
  }
  int stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd < 0) {
    absl::Status s = Errno("cannot create an eventfd for", path);
    close(fd);
    unlink(path.c_str());
    close(lock_fd);
    return s;
  }
  return std::unique_ptr<UnixListener>(new UnixListener(
      path, std::move(allowed_uids), lock_fd, fd, stop_fd));
}

UnixListener::UnixListener(std::string path, std::vector<uid_t> allowed,
                           int lock_fd, int listen_fd, int stop_fd)
    : path_(std::move(path)),
      allowed_uids_(std::move(allowed)),
      lock_fd_(lock_fd),
      listen_fd_(listen_fd),
      stop_fd_(stop_fd) {}

UnixListener::~UnixListener() {
  Stop();
  close(listen_fd_);
  close(stop_fd_);
  unlink(path_.c_str());
  // The lock file stays (removing it would race a starting daemon); the
  // lock goes with the fd.
  close(lock_fd_);
}

bool UnixListener::Allowed(uid_t uid) const {
  return uid == geteuid() ||
         std::find(allowed_uids_.begin(), allowed_uids_.end(), uid) !=
             allowed_uids_.end();
}

void UnixListener::Start(OnConnection on_connection, OnRefused on_refused) {
  thread_ = std::thread(&UnixListener::AcceptLoop, this,
                        std::move(on_connection), std::move(on_refused));
}

void UnixListener::Stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(stop_fd_, &one, sizeof(one));
  thread_.join();
}

void UnixListener::AcceptLoop(OnConnection on_connection,
                              OnRefused on_refused) {
  pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    // gRPC polls the fd itself: it must be non-blocking.
    if (fd < 0) {
      // Out of descriptors: the pending peer stays queued and poll would
      // return at once, so back off instead of spinning; other errors
      // (ECONNABORTED...) concern one peer only.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM) {
        poll(&fds[1], 1, 100);
      }
      continue;
    }
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        !Allowed(cred.uid)) {
      on_refused(PeerCredentials{cred.pid, cred.uid, cred.gid});
      close(fd);
      continue;
    }
    on_connection(fd);
  }
}

}  // namespace argo::toolstack
