#include "daemon/ustack/apps/http_request.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace nslab::ustack::apps {
namespace {

// RFC 9110 tchar: what method names and field names may be made of.
bool is_token(absl::string_view text) {
  if (text.empty()) {
    return false;
  }
  for (const char c : text) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        absl::string_view("!#$%&'*+-.^_`|~").find(c) == absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

// Field values may hold visible characters, spaces, tabs and obs-text, but no other controls:
// a stray CR or NUL is how request smuggling starts.
bool is_field_value(absl::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) {
      return false;
    }
  }
  return true;
}

bool is_target(absl::string_view text) {
  if (text.empty()) {
    return false;
  }
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::size_t HttpRequestParser::feed(absl::string_view data) {
  std::size_t used = 0;
  while (state_ == State::kIncomplete && used < data.size()) {
    const char c = data[used++];
    // RFC 9112 2.2: empty lines before the request line are ignored (some clients send CRLF
    // after a body).
    if (head_.empty() && (c == '\r' || c == '\n')) {
      continue;
    }
    if (head_.size() >= kMaxHead) {
      fail(431);
      break;
    }
    head_.push_back(c);
    if (c == '\n' && (absl::EndsWith(head_, "\n\n") || absl::EndsWith(head_, "\n\r\n"))) {
      parse_head();
    }
  }
  return used;
}

void HttpRequestParser::reset() {
  state_ = State::kIncomplete;
  head_.clear();
  request_ = HttpRequest();
  error_status_ = 0;
}

void HttpRequestParser::parse_head() {
  std::vector<absl::string_view> lines = absl::StrSplit(head_, '\n');
  // The head ends with an empty line and the split leaves one more empty piece after it.
  lines.resize(lines.size() - 2);
  for (absl::string_view& line : lines) {
    // A bare LF ends a line too (RFC 9112 2.2 allows it); a CR anywhere else is invalid.
    absl::ConsumeSuffix(&line, "\r");
  }

  const std::vector<absl::string_view> parts = absl::StrSplit(lines[0], ' ');
  if (parts.size() != 3 || !is_token(parts[0]) || !is_target(parts[1])) {
    fail(400);
    return;
  }
  request_.method = std::string(parts[0]);
  request_.target = std::string(parts[1]);
  const absl::string_view version = parts[2];
  if (version == "HTTP/1.1") {
    request_.minor_version = 1;
  } else if (version == "HTTP/1.0") {
    request_.minor_version = 0;
  } else if (version.size() == 8 && absl::StartsWith(version, "HTTP/") &&
             absl::ascii_isdigit(static_cast<unsigned char>(version[5])) && version[6] == '.' &&
             absl::ascii_isdigit(static_cast<unsigned char>(version[7]))) {
    fail(505);
    return;
  } else {
    fail(400);
    return;
  }

  bool has_host = false;
  bool has_content_length = false;
  bool close = false;
  bool keep_alive = false;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const absl::string_view line = lines[i];
    const std::size_t colon = line.find(':');
    // No colon, whitespace before it (RFC 9112 5.1: MUST reject) or a folded line (obs-fold,
    // starting with whitespace, which the field name check also catches).
    if (colon == absl::string_view::npos || !is_token(line.substr(0, colon))) {
      fail(400);
      return;
    }
    const absl::string_view name = line.substr(0, colon);
    const absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
    if (!is_field_value(value)) {
      fail(400);
      return;
    }
    if (absl::EqualsIgnoreCase(name, "Host")) {
      if (has_host) {
        fail(400);  // RFC 9112 3.2: more than one Host
        return;
      }
      has_host = true;
    } else if (absl::EqualsIgnoreCase(name, "Content-Length")) {
      std::uint64_t length = 0;
      const bool digits = !value.empty() && value.size() <= 19 &&
                          value.find_first_not_of("0123456789") == absl::string_view::npos;
      // Several differing lengths are the classic smuggling vector: refuse rather than pick.
      if (!digits || !absl::SimpleAtoi(value, &length) ||
          (has_content_length && length != request_.content_length)) {
        fail(400);
        return;
      }
      has_content_length = true;
      request_.content_length = length;
    } else if (absl::EqualsIgnoreCase(name, "Transfer-Encoding")) {
      request_.transfer_encoding = true;
    } else if (absl::EqualsIgnoreCase(name, "Connection")) {
      for (absl::string_view option : absl::StrSplit(value, ',')) {
        option = absl::StripAsciiWhitespace(option);
        close = close || absl::EqualsIgnoreCase(option, "close");
        keep_alive = keep_alive || absl::EqualsIgnoreCase(option, "keep-alive");
      }
    }
  }
  // RFC 9112 3.2: an HTTP/1.1 request without Host MUST be answered 400.
  if (request_.minor_version == 1 && !has_host) {
    fail(400);
    return;
  }
  // RFC 9112 9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive".
  request_.keep_alive = !close && (request_.minor_version == 1 || keep_alive);
  state_ = State::kComplete;
}

}  // namespace nslab::ustack::apps
