// The daemon's unix socket (§6): owner-only, one daemon per socket, every
// peer's uid checked with SO_PEERCRED before gRPC sees a byte.
//
// Ownership of a socket path is a lock (flock) on PATH.lock held for the
// daemon's life: a second daemon fails to take it and refuses to start,
// while a socket file left by a daemon that died is recognised as stale
// (its lock is free) and replaced.
//
// The same class opens the guest attach socket (SOCK_SEQPACKET, §8), whose
// listening fd goes to the transport's server instead of Start.
#ifndef TOOLSTACK_API_UNIX_LISTENER_H_
#define TOOLSTACK_API_UNIX_LISTENER_H_

#include <sys/socket.h>
#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace argo::toolstack {

struct PeerCredentials {
  pid_t pid;
  uid_t uid;
  gid_t gid;
};

class UnixListener {
 public:
  // Called for each accepted peer whose uid is allowed; takes the fd.
  using OnConnection = std::function<void(int fd)>;
  // Called for each refused peer (for the log).
  using OnRefused = std::function<void(const PeerCredentials&)>;

  // Creates the parent directory (0700) if missing, else checks it is the
  // daemon's and not group/other-writable; takes PATH.lock (O_NOFOLLOW:
  // never through a symlink), replaces a stale socket, binds PATH with
  // mode 0600 and listens. FailedPrecondition, naming the path, if another
  // daemon holds the socket, the directory is someone else's or writable
  // by others (its mode in the message), or the lock file is a symlink or
  // not a regular file of ours; InvalidArgument for a path longer than a
  // sockaddr_un holds, or a `type` other than SOCK_STREAM (the API) and
  // SOCK_SEQPACKET (the attach socket).
  static absl::StatusOr<std::unique_ptr<UnixListener>> Open(
      const std::string& path, std::vector<uid_t> allowed_uids,
      int type = SOCK_STREAM);
  ~UnixListener();  // stops, removes the socket, releases the lock

  // Accepts on a thread of its own until Stop.
  void Start(OnConnection on_connection, OnRefused on_refused);
  void Stop();
  const std::string& path() const { return path_; }
  // The listening socket (owned here, closed by the destructor), for a
  // server that accepts on its own — then never Start.
  int fd() const { return listen_fd_; }

 private:
  UnixListener(std::string path, std::vector<uid_t> allowed, int lock_fd,
               int listen_fd, int stop_fd);
  void AcceptLoop(OnConnection on_connection, OnRefused on_refused);
  bool Allowed(uid_t uid) const;

  const std::string path_;
  const std::vector<uid_t> allowed_uids_;
  int lock_fd_;
  int listen_fd_;
  int stop_fd_;  // an eventfd: written to stop the accept loop
  std::thread thread_;
};

// $XDG_RUNTIME_DIR/argo/argo-hv.sock, else /run/argo/argo-hv.sock.
std::string DefaultSocketPath();

// The guest attach socket beside the API socket `api_socket_path`: a
// trailing ".sock" becomes "-attach.sock" (argo-hv.sock ->
// argo-hv-attach.sock), else ".attach" is appended. Same directory, so the
// same ownership checks hold; its own lock (PATH.lock) as any socket.
std::string AttachSocketPath(const std::string& api_socket_path);

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_UNIX_LISTENER_H_
