#pragma once

// The receive side's bytes: in-order data waiting for the application, then the window, where
// segments that arrive out of order are written in place and remembered as ranges until the
// hole before them fills (reassembly). One ring; the ranges also give the SACK blocks (RFC 2018),
// the one holding the latest segment first.
//
// The capacity (SO_RCVBUF) sets the window, not the allocation: the ring starts empty and grows
// (doubling, at least kInitialStorage) when a segment lands beyond what it has, so an idle
// connection costs no buffer memory while it still offers its full window. The ring grows at
// most log2(capacity / kInitialStorage) + 1 times; a segment that fits allocates nothing.

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "daemon/ustack/packet/bytes.h"
#include "daemon/ustack/packet/tcp.h"
#include "daemon/ustack/tcp/seq.h"

namespace nslab::ustack::tcp {

struct ReceiveOutcome {
  std::size_t in_order_bytes = 0;  // RCV.NXT moved by this much
  bool out_of_order = false;       // stored (at least partly) beyond a hole
  bool filled_hole = false;        // RCV.NXT jumped over data that had arrived before
};

class ReceiveBuffer {
 public:
  // The first allocation: a few segments, or a request of a few KiB.
  static constexpr std::size_t kInitialStorage = 4096;

  explicit ReceiveBuffer(std::size_t capacity);

  // Starts the sequence space (after the peer's SYN). Drops whatever was stored.
  void reset(SeqNumber rcv_nxt);

  // Stores the part of seq.. that lies in [RCV.NXT, RCV.NXT + window()); the rest is dropped.
  ReceiveOutcome receive(SeqNumber seq, packet::ConstBytes data);
  // Copies in-order bytes out; returns how many.
  std::size_t read(packet::MutableBytes out);

  SeqNumber rcv_nxt() const { return rcv_nxt_; }
  std::size_t readable() const { return readable_; }
  std::size_t capacity() const { return capacity_; }
  std::size_t window() const { return capacity() - readable_; }
  // Bytes allocated now (at most capacity()).
  std::size_t allocated() const { return storage_size_; }
  bool has_out_of_order() const { return !ranges_.empty(); }
  // Up to `max` blocks, the most recently extended one first.
  std::size_t sack_blocks(std::span<packet::TcpSackBlock> out) const;
  // SO_RCVBUF; never below what is stored now (in order and out of order).
  void set_capacity(std::size_t capacity);
  // Gives the storage back when nothing is stored (a connection that will receive no more).
  void release_if_empty();

 private:
  struct Range {
    SeqNumber left;
    SeqNumber right;  // one past the last byte
  };

  void copy_in(SeqNumber seq, packet::ConstBytes data);
  std::size_t position_of(SeqNumber seq) const;
  void add_range(SeqNumber left, SeqNumber right);
  // Bytes from the first readable one to the end of the last out-of-order range.
  std::size_t in_use() const;
  // Makes the ring hold at least `needed` bytes from head_ on.
  void reserve(std::size_t needed);
  // Moves what is in use to the front of a fresh ring of `size` bytes (>= in_use()).
  void reallocate(std::size_t size);

  std::unique_ptr<std::byte[]> storage_;
  std::size_t storage_size_ = 0;
  std::size_t capacity_;
  std::size_t head_ = 0;  // first readable byte
  std::size_t readable_ = 0;
  SeqNumber rcv_nxt_;
  std::vector<Range> ranges_;  // sorted, disjoint, not touching, all after rcv_nxt_
  SeqNumber latest_left_;      // a byte of the range that took the latest segment
};

}  // namespace nslab::ustack::tcp
