#pragma once

// The stack's Link over the virtio-net NIC.

#include "daemon/ustack/driver/virtio_net.h"
#include "daemon/ustack/net/link.h"

namespace nslab::ustack::node {

class NicLink final : public net::Link {
 public:
  explicit NicLink(driver::VirtioNet& nic) : nic_(nic) {}

  bool send(std::size_t len, std::optional<net::LinkChecksumOffload> checksum,
            absl::FunctionRef<void(packet::MutableBytes frame)> fill) override {
    std::optional<driver::TxChecksumOffload> offload;
    if (checksum) {
      offload = driver::TxChecksumOffload{checksum->start, checksum->offset};
    }
    return nic_.transmit(len, offload, fill);
  }
  bool checksum_offload() const override { return nic_.settings().csum_offload; }

 private:
  driver::VirtioNet& nic_;
};

}  // namespace nslab::ustack::node
