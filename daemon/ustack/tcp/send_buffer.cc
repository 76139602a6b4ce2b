#include "daemon/ustack/tcp/send_buffer.h"

#include <algorithm>
#include <cstring>

namespace nslab::ustack::tcp {

std::size_t SendBuffer::append(packet::ConstBytes data) {
  const std::size_t len = std::min(data.size(), free_space());
  if (len == 0) {
    return 0;
  }
  const std::size_t needed = size() + len;
  if (storage_size_ < capacity_ && 2 * needed > storage_size_) {
    std::size_t grown = std::max(kInitialStorage, storage_size_);
    while (grown < 2 * needed) {
      grown *= 2;
    }
    reallocate(std::max(std::min(grown, capacity_), needed));
  } else if (storage_size_ - end_ < len) {
    std::memmove(storage_.get(), storage_.get() + begin_, size());
    end_ -= begin_;
    begin_ = 0;
  }
  std::memcpy(storage_.get() + end_, data.data(), len);
  end_ += len;
  return len;
}

packet::ConstBytes SendBuffer::peek(std::size_t offset, std::size_t len) const {
  if (offset >= size()) {
    return {};
  }
  return packet::ConstBytes(storage_.get() + begin_ + offset, std::min(len, size() - offset));
}

void SendBuffer::consume(std::size_t len) {
  begin_ += std::min(len, size());
  if (begin_ == end_) {
    begin_ = end_ = 0;
  }
}

void SendBuffer::set_capacity(std::size_t capacity) {
  capacity_ = std::max(capacity, size());
  if (storage_size_ > capacity_) {
    reallocate(capacity_);
  }
}

void SendBuffer::release_if_empty() {
  if (size() == 0) {
    storage_.reset();
    storage_size_ = 0;
    begin_ = end_ = 0;
  }
}

void SendBuffer::reallocate(std::size_t size) {
  // Not value-initialized: pages the data never reaches stay untouched (and out of the RSS).
  auto resized = std::make_unique_for_overwrite<std::byte[]>(size);
  if (this->size() > 0) {
    std::memcpy(resized.get(), storage_.get() + begin_, this->size());
  }
  end_ = this->size();
  begin_ = 0;
  storage_ = std::move(resized);
  storage_size_ = size;
}

}  // namespace nslab::ustack::tcp
