#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace grpc {
class ServerCredentials;
}  // namespace grpc

namespace nslab::server {

// The files nslabd's TCP listener is secured with, as given on its command line.
struct TcpTlsFiles {
  std::string cert_file;  // nslabd's certificate (chain), PEM
  std::string key_file;   // its private key, PEM, unencrypted
  std::string ca_file;    // the CA(s) whose client certificates may drive nslabd, PEM
};

// Credentials for `--listen address`: mutual TLS, and nothing else. Control of nslabd is
// root on the host, so a client must present a certificate signed by `ca_file`; loopback
// is no exception (any local user can reach it). Reads and checks the three files now, so
// that a missing, unreadable or wrong file stops nslabd at startup, naming the file, rather
// than failing each handshake later. Null when there is no TCP listener (no address and no
// files); an error for files without an address, which would otherwise do nothing.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> TcpListenerCredentials(
    const std::string& address, const TcpTlsFiles& files);

}  // namespace nslab::server
