#include "client/connection.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/common/file_text.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace nslab::client {
namespace {

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

// Reads one TLS file, checking that it holds the PEM block it should: gRPC itself would
// only fail the handshake later, without naming the file.
absl::Status ReadPem(const char* flag, const std::string& path, const char* marker,
                     std::string* text) {
  auto read = ReadTextFile(path);
  if (!read.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": ", read.status().message()));
  }
  if (!absl::StrContains(*read, marker)) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": not PEM text with a ", marker, " line"));
  }
  *text = *std::move(read);
  return absl::OkStatus();
}

}  // namespace

absl::Status PrepareConnection(GlobalOptions* options) {
  if (options->address.empty()) {
    return absl::OkStatus();
  }
  TlsOptions& tls = options->tls;
  std::vector<std::string> missing;
  if (tls.ca_file.empty()) {
    missing.push_back("--tls-ca FILE (the CA that signed nslabd's certificate)");
  }
  if (tls.cert_file.empty()) {
    missing.push_back("--tls-cert FILE (this client's certificate)");
  }
  if (tls.key_file.empty()) {
    missing.push_back("--tls-key FILE (its private key)");
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--address ", options->address, ": nslabd serves TCP with mutual TLS only; add ",
        absl::StrJoin(missing, ", "), " (or NSLAB_TLS_CA, NSLAB_TLS_CERT, NSLAB_TLS_KEY)"));
  }
  if (auto status = ReadPem("--tls-ca", tls.ca_file, "-----BEGIN CERTIFICATE-----", &tls.ca_pem);
      !status.ok()) {
    return status;
  }
  if (auto status =
          ReadPem("--tls-cert", tls.cert_file, "-----BEGIN CERTIFICATE-----", &tls.cert_pem);
      !status.ok()) {
    return status;
  }
  return ReadPem("--tls-key", tls.key_file, "PRIVATE KEY-----", &tls.key_pem);
}

namespace {

std::shared_ptr<grpc::Channel> NewChannel(const GlobalOptions& options) {
  if (options.address.empty()) {
    return grpc::CreateChannel("unix:" + options.socket, grpc::InsecureChannelCredentials());
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = options.tls.ca_pem;
  ssl.pem_cert_chain = options.tls.cert_pem;
  ssl.pem_private_key = options.tls.key_pem;
  grpc::ChannelArguments args;
  if (!options.tls.server_name.empty()) {
    // Labs are often reached by an IP address their certificate does not name.
    args.SetSslTargetNameOverride(options.tls.server_name);
  }
  return grpc::CreateCustomChannel(options.address, grpc::SslCredentials(ssl), args);
}

// How often a waiting CLI asks again; nslabd's recovery of a big lab takes seconds.
constexpr auto kServingPoll = std::chrono::milliseconds(100);

// Blocks SIGINT and SIGTERM in the calling thread while it lives. gRPC's threads start with the
// first call and keep the mask of the thread that made it: blocked in them, the two signals go
// to the main thread, where `nslab run` and `nslab capture` handle them and any other verb ends
// by their default action, as before this call was made first.
class InterruptsBlocked {
 public:
  InterruptsBlocked() {
    sigset_t interrupts;
    sigemptyset(&interrupts);
    sigaddset(&interrupts, SIGINT);
    sigaddset(&interrupts, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &interrupts, &previous_);
  }
  ~InterruptsBlocked() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  InterruptsBlocked(const InterruptsBlocked&) = delete;
  InterruptsBlocked& operator=(const InterruptsBlocked&) = delete;

 private:
  sigset_t previous_;
};

}  // namespace

std::shared_ptr<grpc::Channel> Connect(const GlobalOptions& options) {
  static const std::shared_ptr<grpc::Channel> channel = NewChannel(options);
  return channel;
}

void AwaitServing(const GlobalOptions& options) {
  std::optional<InterruptsBlocked> first_call(std::in_place);
  auto health = grpc::health::v1::Health::NewStub(Connect(options));
  const int wait_seconds = options.timeout_seconds > 0 ? options.timeout_seconds : 300;
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(wait_seconds);
  bool told = false;
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(
        std::min(deadline, std::chrono::system_clock::now() + std::chrono::seconds(10)));
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status = health->Check(&context, {}, &response);
    first_call.reset();  // a Ctrl-C while waiting ends the wait
    if (!status.ok() || response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      return;
    }
    if (std::chrono::system_clock::now() + kServingPoll >= deadline) {
      return;
    }
    if (!told) {
      std::fprintf(stderr,
                   "nslab: nslabd is taking its labs up again after a start; waiting until it "
                   "serves (at most %d s, --timeout)\n",
                   wait_seconds);
      told = true;
    }
    std::this_thread::sleep_for(kServingPoll);
  }
}

std::unique_ptr<grpc::ClientContext> NewContext(const GlobalOptions& options) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (options.timeout_seconds > 0) {
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(options.timeout_seconds));
  }
  return context;
}

int ReportError(const grpc::Status& status, const GlobalOptions& options) {
  std::fprintf(stderr, "nslab: %s: %s\n", CodeName(status.error_code()),
               status.error_message().c_str());
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE && options.address.empty()) {
    std::fprintf(stderr, "nslab: is nslabd running? (socket %s; set --socket or NSLAB_SOCKET)\n",
                 options.socket.c_str());
  } else if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    // A refused certificate looks like any other failure to connect: name both causes.
    const std::string name = options.tls.server_name.empty()
                                 ? "the --address host (or set --tls-server-name)"
                                 : options.tls.server_name + " (--tls-server-name)";
    std::fprintf(stderr,
                 "nslab: is nslabd listening on %s (--listen)? If so, check the certificates: "
                 "--tls-ca must be the CA that signed nslabd's certificate, whose names must "
                 "include %s, and --tls-cert must be signed by the CA nslabd was given as "
                 "--tls-ca\n",
                 options.address.c_str(), name.c_str());
  }
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ? 69 : 1;
}

}  // namespace nslab::client
