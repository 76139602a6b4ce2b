#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"

namespace nslab::client {

inline constexpr char kDefaultSocket[] = "/run/nslab/nslabd.sock";

// How the CLI proves itself to nslabd over TCP, which serves mutual TLS only: control of
// nslabd is root on its host.
struct TlsOptions {
  std::string ca_file;      // --tls-ca or NSLAB_TLS_CA: the CA that signed nslabd's certificate
  std::string cert_file;    // --tls-cert or NSLAB_TLS_CERT: this client's certificate
  std::string key_file;     // --tls-key or NSLAB_TLS_KEY: its private key
  std::string server_name;  // --tls-server-name: the name nslabd's certificate must have
                            // (default: the host part of --address)
  // The files' text, read by PrepareConnection before any verb runs.
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

// Options every verb shares.
struct GlobalOptions {
  std::string socket = kDefaultSocket;  // --socket, or NSLAB_SOCKET
  std::string address;                  // --address host:port (TCP), or NSLAB_ADDRESS
  TlsOptions tls;
  std::string output = "table";  // -o table|json|yaml
  int timeout_seconds = 300;
};

// For --address: checks that the three TLS files are given and reads them, so that a
// missing or unreadable one is reported, naming it, before anything is sent. Nothing to do
// for the unix socket.
absl::Status PrepareConnection(GlobalOptions* options);

// A channel to the unix socket, or to --address with mutual TLS (after PrepareConnection);
// one per process, so that the health check before a verb and the verb share a connection.
std::shared_ptr<grpc::Channel> Connect(const GlobalOptions& options);

// nslabd answers every call but its health check with UNAVAILABLE while it takes its labs up
// again after a start (health NOT_SERVING). Waits until it serves, saying so once on stderr,
// for at most the --timeout; returns at once when it serves or cannot be asked, and the verb
// then reports what is wrong.
void AwaitServing(const GlobalOptions& options);

// A context with the deadline from the options.
std::unique_ptr<grpc::ClientContext> NewContext(const GlobalOptions& options);

// Prints "nslab: CODE: message" (with a hint when the daemon is unreachable) and returns
// the exit code for a failed call.
int ReportError(const grpc::Status& status, const GlobalOptions& options);

}  // namespace nslab::client
