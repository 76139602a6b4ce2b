#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/common/fd.h"

namespace nslab::netns {

// Namespaces live where `ip netns` keeps them, so `ip netns exec <name> ...` works on
// every node of a lab.
inline constexpr absl::string_view kNetnsDir = "/run/netns";

std::string PathOf(absl::string_view name);

// Whether /run/netns/<name> exists (made by anyone).
bool Exists(absl::string_view name);

// Creates a named network namespace exactly as `ip netns add` does: a bind mount of a
// fresh namespace onto /run/netns/<name>. ALREADY_EXISTS if the name is taken; the
// existing namespace is never touched.
absl::Status Create(absl::string_view name);

// Create, then runs `work` on the same thread while it is inside the new namespace
// (one thread instead of two for the common "create, then configure" sequence). If
// `work` fails the namespace stays; the caller decides whether to delete it.
absl::Status CreateAndRunIn(absl::string_view name, const std::function<absl::Status()>& work);

// Unmounts and removes /run/netns/<name>. NOT_FOUND if it does not exist. The namespace
// itself disappears once nothing else (a process, an open fd) holds it.
absl::Status Delete(absl::string_view name);

// What tells a namespace apart from another one later mounted under the same name. The nsfs
// inode identifies it only while it exists: the kernel hands the number out again once the
// namespace is freed, which `ip netns delete X; ip netns add X` often shows. The cookie
// (SO_NETNS_COOKIE) is never handed out twice in a boot; 0 on kernels without it (< 5.14).
struct Identity {
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t cookie = 0;
};

// Whether `current` is the namespace `recorded` describes. A cookie missing on either side
// (an older kernel) leaves the decision to the inode.
bool SameNamespace(const Identity& recorded, const Identity& current);

// The identity of the namespace mounted at /run/netns/<name>. FAILED_PRECONDITION if what is
// there is not a network namespace (a stale file whose mount is gone).
absl::StatusOr<Identity> IdentityOf(absl::string_view name);

// The identity of the calling thread's network namespace.
absl::StatusOr<Identity> IdentityHere();

// Opens the namespace for setns().
absl::StatusOr<UniqueFd> Open(absl::string_view name);

// Runs `work` on a short-lived thread that has entered the namespace, and waits for it.
// Sockets opened by `work` stay bound to the namespace after it returns, which is how
// the netlink and nftables layers get per-namespace handles without moving threads of
// the daemon around.
absl::Status RunIn(int netns_fd, const std::function<absl::Status()>& work);
absl::Status RunIn(absl::string_view name, const std::function<absl::Status()>& work);

}  // namespace nslab::netns
