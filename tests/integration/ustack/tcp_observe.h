#pragma once

// What the ustack TCP tests look at on both ends of a connection between the kernel in the peer
// namespace B and the ustack: kernel sockets made in B, `ss -tan` run in B, the ustack's own
// socket table and client reports, and nftables rules in B that drop chosen segments to hold a
// connection in a state. Rules live in one table, kTable, deleted by that name.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nslab/v1/ustack.pb.h"
#include "tests/integration/ustack/ustack_lab.h"

namespace nslab::ustack::testing {

inline constexpr char kNftTable[] = "nslab_ustack_test";

// A listening kernel socket at kPeerIp:port in B; `receive_buffer` (SO_RCVBUF) when non-zero.
absl::StatusOr<int> PeerListen(UstackLab& lab, std::uint16_t port, int receive_buffer = 0);
// accept() within `timeout_ms`; -1 if nothing came.
int AcceptWithin(int listener, int timeout_ms);
// Reads until the end of the stream (or `timeout_ms`); false on timeout or error.
bool ReadToEnd(int fd, std::string& out, int timeout_ms);
// "10.77.0.1:5001": the socket's own address.
std::string LocalEndpoint(int fd);

// Loads `chains` (nft syntax for the body of a table) as table inet kNftTable in B.
absl::Status PeerNft(UstackLab& lab, const std::string& chains);
absl::Status PeerNftDelete(UstackLab& lab);

// The state `ss -tan` in B shows for the kernel socket local -> peer ("" when there is none).
std::string KernelState(UstackLab& lab, const std::string& local, const std::string& peer);
// The state of the ustack's socket local -> remote in its table ("" when there is none).
std::string UstackState(const v1::UstackStats& stats, const std::string& local,
                        const std::string& remote);

// Waits (up to `timeout_ms`) until the ustack's socket ustack_end -> kernel_end is in
// `ustack_state` and the kernel's kernel_end -> ustack_end in `kernel_state` ("" = gone);
// OK, or an error with what both tables showed last.
absl::Status ExpectStates(UstackLab& lab, const std::string& ustack_end,
                          const std::string& kernel_end, const std::string& ustack_state,
                          const std::string& kernel_state, int timeout_ms = 5000);

// The first client in the ustack's stats; waits up to `timeout_ms` for `done` to hold.
absl::StatusOr<v1::UstackClient> WaitForClient(
    UstackLab& lab, const std::function<bool(const v1::UstackClient&)>& done,
    int timeout_ms = 10000);

// FNV-1a 64, as the ustack's clients digest what they receive.
std::uint64_t Fnv1a64(const std::string& bytes);
// `size` bytes of the generated pattern (byte i = i % 251).
std::string GeneratedBytes(std::size_t size);

}  // namespace nslab::ustack::testing
