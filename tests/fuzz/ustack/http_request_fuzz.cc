// The HTTP request head parser on arbitrary bytes, fed in pieces whose sizes the input picks:
// it must never take more than it was given, never hold more than kMaxHead, and reach the same
// verdict as when fed the same bytes whole, since TCP may split a request anywhere.
//
// Input: one byte of piece size (1 + value), then the stream; after each complete request the
// parser is reset and goes on with the rest, as a keep-alive connection would. The seeds in
// http_corpus/ are requests curl and browsers send, pipelined, and malformed ones.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "daemon/ustack/apps/http_request.h"

namespace {

using nslab::ustack::apps::HttpRequestParser;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "http parser: %s\n", what);
    std::abort();
  }
}

struct Verdict {
  HttpRequestParser::State state;
  int error_status;
  std::string method, target;
  bool keep_alive;
  std::size_t used;
  bool operator==(const Verdict&) const = default;
};

// Parses requests from `stream` in pieces of `piece` bytes until one is incomplete or fails.
std::vector<Verdict> parse_all(absl::string_view stream, std::size_t piece) {
  std::vector<Verdict> verdicts;
  HttpRequestParser parser;
  std::size_t at = 0;
  std::size_t request_start = 0;
  while (at < stream.size()) {
    const absl::string_view chunk = stream.substr(at, piece);
    const std::size_t used = parser.feed(chunk);
    check(used <= chunk.size(), "used more than it was given");
    at += used;
    if (parser.state() == HttpRequestParser::State::kIncomplete) {
      check(used == chunk.size(), "stopped early while incomplete");
      continue;
    }
    Verdict verdict{parser.state(), parser.error_status(), "", "", false, at - request_start};
    if (parser.state() == HttpRequestParser::State::kComplete) {
      const auto& request = parser.request();
      check(!request.method.empty() && !request.target.empty(), "empty method or target");
      check(request.minor_version == 0 || request.minor_version == 1, "version");
      verdict.method = request.method;
      verdict.target = request.target;
      verdict.keep_alive = request.keep_alive;
    } else {
      const int status = parser.error_status();
      check(status == 400 || status == 431 || status == 505, "error status");
    }
    verdicts.push_back(verdict);
    if (parser.state() == HttpRequestParser::State::kError) {
      return verdicts;
    }
    parser.reset();
    request_start = at;
  }
  return verdicts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) {
    return 0;
  }
  const std::size_t piece = std::size_t{data[0]} + 1;
  // An exactly sized copy, so that ASan catches a read past the input.
  const std::vector<char> bytes(data + 1, data + size);
  const absl::string_view stream(bytes.data(), bytes.size());
  check(parse_all(stream, piece) == parse_all(stream, stream.size() + 1),
        "the verdict depends on how the bytes were split");
  return 0;
}
