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
    return nic_.transmit(len, offload, std::nullopt, fill);
  }
  bool checksum_offload() const override { return nic_.settings().csum_offload; }
  bool segmentation_offload() const override { return nic_.segmentation_offload(); }
  bool send_segmented(std::size_t len, net::LinkChecksumOffload checksum,
                      net::LinkSegmentation segmentation,
                      absl::FunctionRef<void(packet::MutableBytes frame)> fill) override {
    return nic_.transmit(len, driver::TxChecksumOffload{checksum.start, checksum.offset},
                         driver::TxSegmentation{segmentation.mss, segmentation.header_len}, fill);
  }

 private:
  driver::VirtioNet& nic_;
};

}  // namespace nslab::ustack::node
