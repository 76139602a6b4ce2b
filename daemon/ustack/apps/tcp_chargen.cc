#include "daemon/ustack/apps/tcp_chargen.h"

#include <span>

namespace nslab::ustack::apps {

namespace {
constexpr int kPrintableFirst = 0x20;
constexpr int kPrintableCount = 95;
constexpr int kLineLen = 72;
}  // namespace

const std::vector<std::byte>& chargen_cycle() {
  static const std::vector<std::byte> cycle = [] {
    std::vector<std::byte> bytes;
    bytes.reserve(kPrintableCount * (kLineLen + 2));
    for (int line = 0; line < kPrintableCount; ++line) {
      for (int column = 0; column < kLineLen; ++column) {
        bytes.push_back(
            static_cast<std::byte>(kPrintableFirst + (line + column) % kPrintableCount));
      }
      bytes.push_back(std::byte{'\r'});
      bytes.push_back(std::byte{'\n'});
    }
    return bytes;
  }();
  return cycle;
}

absl::StatusOr<std::unique_ptr<TcpChargen>> TcpChargen::start(tcp::Tcp& tcp, std::uint16_t port) {
  std::unique_ptr<TcpChargen> chargen(new TcpChargen(tcp));
  if (absl::Status status = chargen->listen(port); !status.ok()) {
    return status;
  }
  return chargen;
}

void TcpChargen::serve(tcp::SocketId connection, std::uint8_t /*events*/) {
  if (drain_and_drop(connection)) {
    finish(connection);
    return;
  }
  const std::span<const std::byte> cycle(chargen_cycle());
  std::size_t& offset = offsets_[connection];
  for (;;) {
    const absl::StatusOr<std::size_t> written =
        tcp_.write(connection, cycle.subspan(offset), tcp_.now());
    if (!written.ok()) {
      if (!absl::IsUnavailable(written.status())) {
        finish(connection);
      }
      return;
    }
    offset = (offset + *written) % cycle.size();
  }
}

}  // namespace nslab::ustack::apps
