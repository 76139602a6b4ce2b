#include "daemon/ustack/tcp/send_buffer.h"

#include <algorithm>
#include <cstring>

namespace nslab::ustack::tcp {

SendBuffer::SendBuffer(std::size_t capacity) : storage_(capacity), capacity_(capacity) {}

std::size_t SendBuffer::append(packet::ConstBytes data) {
  const std::size_t len = std::min(data.size(), free_space());
  if (len == 0) {
    return 0;
  }
  if (storage_.size() - end_ < len) {
    std::memmove(storage_.data(), storage_.data() + begin_, size());
    end_ -= begin_;
    begin_ = 0;
  }
  std::memcpy(storage_.data() + end_, data.data(), len);
  end_ += len;
  return len;
}

packet::ConstBytes SendBuffer::peek(std::size_t offset, std::size_t len) const {
  if (offset >= size()) {
    return {};
  }
  return packet::ConstBytes(storage_).subspan(begin_ + offset, std::min(len, size() - offset));
}

void SendBuffer::consume(std::size_t len) {
  begin_ += std::min(len, size());
  if (begin_ == end_) {
    begin_ = end_ = 0;
  }
}

void SendBuffer::set_capacity(std::size_t capacity) {
  capacity = std::max(capacity, size());
  std::vector<std::byte> resized(capacity);
  if (size() > 0) {
    std::memcpy(resized.data(), storage_.data() + begin_, size());
  }
  end_ = size();
  begin_ = 0;
  storage_ = std::move(resized);
  capacity_ = capacity;
}

}  // namespace nslab::ustack::tcp
