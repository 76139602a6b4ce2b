#pragma once

// The head of an HTTP/1.x request (RFC 9112), parsed as its bytes arrive: the request line and
// the header fields up to the empty line. Only what a GET/HEAD server needs is kept; a body is
// reported (Content-Length, Transfer-Encoding) but never read, so the server can refuse it. The
// head is bounded so that a client cannot make the server hold more than kMaxHead bytes.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace nslab::ustack::apps {

struct HttpRequest {
  std::string method;      // case-sensitive token, e.g. "GET"
  std::string target;      // as sent, e.g. "/bytes/10"
  int minor_version = 1;   // HTTP/1.<minor_version>: 0 or 1
  bool keep_alive = true;  // whether the connection may carry another request after this one
  std::uint64_t content_length = 0;
  bool transfer_encoding = false;  // any Transfer-Encoding field (a body of unknown length)
};

class HttpRequestParser {
 public:
  // Request line and fields together, with their line ends.
  static constexpr std::size_t kMaxHead = 8 * 1024;

  enum class State { kIncomplete, kComplete, kError };

  // Takes bytes of the stream; returns how many it used. It stops right after the head's empty
  // line (the rest belongs to the next request) and takes nothing more once complete or failed.
  std::size_t feed(absl::string_view data);

  State state() const { return state_; }
  // Valid once complete.
  const HttpRequest& request() const { return request_; }
  // Once failed: the status to answer with (400, 431 head too large, 505 version), after which
  // the connection must close since the stream cannot be resynchronised.
  int error_status() const { return error_status_; }

  // Ready for the next request on the same connection.
  void reset();

 private:
  void parse_head();
  void fail(int status) {
    state_ = State::kError;
    error_status_ = status;
  }

  State state_ = State::kIncomplete;
  std::string head_;
  HttpRequest request_;
  int error_status_ = 0;
};

}  // namespace nslab::ustack::apps
