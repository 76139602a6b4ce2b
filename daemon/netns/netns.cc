#include "daemon/netns/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "daemon/common/errno_status.h"

namespace nslab::netns {
namespace {

// /run/netns must be a shared mount point so that namespaces mounted under it are
// visible to every mount namespace (iproute2 does the same dance).
absl::Status PrepareNetnsDir() {
  const std::string dir(kNetnsDir);
  if (::mkdir("/run", 0755) != 0 && errno != EEXIST) {
    return ErrnoStatus("mkdir /run", errno);
  }
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoStatus(absl::StrCat("mkdir ", dir), errno);
  }
  if (::mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) == 0) {
    return absl::OkStatus();
  }
  if (errno != EINVAL) {
    return ErrnoStatus(absl::StrCat("make ", dir, " shared"), errno);
  }
  // Not a mount point yet: bind it onto itself, then retry.
  if (::mount(dir.c_str(), dir.c_str(), "none", MS_BIND | MS_REC, nullptr) != 0) {
    return ErrnoStatus(absl::StrCat("bind ", dir), errno);
  }
  if (::mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) != 0) {
    return ErrnoStatus(absl::StrCat("make ", dir, " shared"), errno);
  }
  return absl::OkStatus();
}

// The cookie of the calling thread's namespace, 0 when the kernel has none to give.
absl::StatusOr<uint64_t> CookieHere() {
  UniqueFd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) {
    return ErrnoStatus("socket for SO_NETNS_COOKIE", errno);
  }
  uint64_t cookie = 0;
  socklen_t size = sizeof(cookie);
  if (::getsockopt(sock.get(), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &size) != 0) {
    if (errno == ENOPROTOOPT) {
      return 0;
    }
    return ErrnoStatus("getsockopt SO_NETNS_COOKIE", errno);
  }
  return cookie;
}

}  // namespace

std::string PathOf(absl::string_view name) { return absl::StrCat(kNetnsDir, "/", name); }

bool Exists(absl::string_view name) {
  struct stat st {};
  return ::lstat(PathOf(name).c_str(), &st) == 0;
}

absl::Status Create(absl::string_view name) {
  return CreateAndRunIn(name, [] { return absl::OkStatus(); });
}

absl::Status CreateAndRunIn(absl::string_view name, const std::function<absl::Status()>& work) {
  if (name.empty() || name.find('/') != absl::string_view::npos || name == "." || name == "..") {
    return absl::InvalidArgumentError(absl::StrCat("bad namespace name \"", name, "\""));
  }
  // Once per daemon: the mount dance costs several syscalls per namespace otherwise.
  static std::mutex prepare_mutex;
  static bool prepared = false;
  {
    std::lock_guard<std::mutex> lock(prepare_mutex);
    if (!prepared) {
      if (auto status = PrepareNetnsDir(); !status.ok()) {
        return status;
      }
      prepared = true;
    }
  }
  const std::string path = PathOf(name);
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) {
    return ErrnoStatus(absl::StrCat("create ", path), errno);
  }
  ::close(fd);

  // unshare() changes the calling thread only; a throwaway thread keeps the daemon's
  // own threads in the host namespace.
  absl::Status result;
  bool mounted = false;
  std::thread([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      result = ErrnoStatus("unshare(CLONE_NEWNET)", errno);
      return;
    }
    const std::string self = absl::StrCat("/proc/self/task/", ::gettid(), "/ns/net");
    if (::mount(self.c_str(), path.c_str(), "none", MS_BIND, nullptr) != 0) {
      result = ErrnoStatus(absl::StrCat("bind ", self, " to ", path), errno);
      return;
    }
    mounted = true;
    result = work();
  }).join();
  if (!mounted) {
    ::unlink(path.c_str());
  }
  return result;
}

absl::Status Delete(absl::string_view name) {
  const std::string path = PathOf(name);
  if (!Exists(name)) {
    return absl::NotFoundError(absl::StrCat("namespace ", name, " does not exist"));
  }
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL) {
    return ErrnoStatus(absl::StrCat("umount ", path), errno);
  }
  if (::unlink(path.c_str()) != 0) {
    return ErrnoStatus(absl::StrCat("unlink ", path), errno);
  }
  return absl::OkStatus();
}

bool SameNamespace(const Identity& recorded, const Identity& current) {
  if (recorded.device != current.device || recorded.inode != current.inode) {
    return false;
  }
  return recorded.cookie == 0 || current.cookie == 0 || recorded.cookie == current.cookie;
}

absl::StatusOr<Identity> IdentityOf(absl::string_view name) {
  auto fd = Open(name);
  if (!fd.ok()) {
    return fd.status();
  }
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) {
    return ErrnoStatus(absl::StrCat("stat ", PathOf(name)), errno);
  }
  Identity identity{.device = st.st_dev, .inode = st.st_ino, .cookie = 0};
  // Only a thread inside the namespace can ask for its cookie.
  absl::Status status = RunIn(fd->get(), [&]() -> absl::Status {
    auto cookie = CookieHere();
    if (!cookie.ok()) {
      return cookie.status();
    }
    identity.cookie = *cookie;
    return absl::OkStatus();
  });
  if (!status.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        PathOf(name), " is not a network namespace one can enter: ", status.message()));
  }
  return identity;
}

absl::StatusOr<Identity> IdentityHere() {
  struct stat st {};
  if (::stat("/proc/thread-self/ns/net", &st) != 0) {
    return ErrnoStatus("stat /proc/thread-self/ns/net", errno);
  }
  auto cookie = CookieHere();
  if (!cookie.ok()) {
    return cookie.status();
  }
  return Identity{.device = st.st_dev, .inode = st.st_ino, .cookie = *cookie};
}

absl::StatusOr<UniqueFd> Open(absl::string_view name) {
  const std::string path = PathOf(name);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return ErrnoStatus(absl::StrCat("open ", path), errno);
  }
  return UniqueFd(fd);
}

absl::Status RunIn(int netns_fd, const std::function<absl::Status()>& work) {
  absl::Status result;
  std::thread([&] {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) {
      result = ErrnoStatus("setns", errno);
      return;
    }
    result = work();
  }).join();
  return result;
}

absl::Status RunIn(absl::string_view name, const std::function<absl::Status()>& work) {
  auto fd = Open(name);
  if (!fd.ok()) {
    return fd.status();
  }
  return RunIn(fd->get(), work);
}

}  // namespace nslab::netns
