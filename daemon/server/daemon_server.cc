#include "daemon/server/daemon_server.h"

#include <grp.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "daemon/caps/capabilities.h"
#include "daemon/common/dir_lock.h"
#include "daemon/common/errno_status.h"
#include "daemon/common/fd.h"
#include "daemon/common/log.h"
#include "daemon/server/chaos_service.h"
#include "daemon/server/diag_service.h"
#include "daemon/server/exec_service.h"
#include "daemon/server/labs_service.h"
#include "daemon/server/participants_service.h"
#include "daemon/server/recovery_server.h"
#include "daemon/server/reflection_v1.h"
#include "daemon/server/scenario_service.h"
#include "daemon/server/system_service.h"
#include "daemon/server/tcp_credentials.h"

namespace nslab::server {
namespace {

// The nslab services nslabd serves, as reflection lists them and health answers for them.
constexpr const char* kServiceNames[] = {
    nslab::v1::LabsService::service_full_name(),
    nslab::v1::ExecService::service_full_name(),
    nslab::v1::SystemService::service_full_name(),
    nslab::v1::ChaosService::service_full_name(),
    nslab::v1::DiagnosticsService::service_full_name(),
    nslab::v1::ParticipantsService::service_full_name(),
    nslab::v1::ScenarioService::service_full_name(),
};

// The group named by --socket-group; no group at all is an error, not root's group.
absl::StatusOr<gid_t> LookupGroup(const std::string& name) {
  group entry{};
  group* found = nullptr;
  std::vector<char> buffer(16384);
  const int error = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (error != 0) {
    return ErrnoStatus(absl::StrCat("--socket-group ", name, ": look up the group"), error);
  }
  if (found == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--socket-group ", name, ": no such group (see /etc/group or getent group)"));
  }
  return entry.gr_gid;
}

// A socket file nobody listens on is left over from a killed daemon; one that answers
// belongs to a running daemon and must not be stolen.
absl::Status PrepareSocketPath(const std::string& path) {
  std::error_code error;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), error);
  if (error) {
    return absl::InternalError(absl::StrCat("create directory for ", path, ": ", error.message()));
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return absl::OkStatus();
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " exists and is not a socket; remove it or pick --socket"));
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("another nslabd is listening on ", path, "; stop it or pick --socket"));
  }
  ::unlink(path.c_str());
  return absl::OkStatus();
}

}  // namespace

DaemonServer::DaemonServer(DaemonOptions options)
    : options_(std::move(options)), supervisor_(&events_) {}

DaemonServer::~DaemonServer() { Shutdown(); }

absl::Status DaemonServer::Start() {
  // Every option that names a file or a group is checked before anything else is done: a
  // mistake stops nslabd at startup, and the files are read here and never again.
  auto tcp_credentials = TcpListenerCredentials(
      options_.tcp_address, {options_.tls_cert_file, options_.tls_key_file, options_.tls_ca_file});
  if (!tcp_credentials.ok()) {
    return tcp_credentials.status();
  }
  std::optional<gid_t> socket_gid;
  if (!options_.socket_group.empty()) {
    auto gid = LookupGroup(options_.socket_group);
    if (!gid.ok()) {
      return gid.status();
    }
    socket_gid = *gid;
  }
  // Before anything is read or removed: a second daemon on the same state would adopt the
  // first one's labs and remove its half-built ones.
  auto lock = DirLock::Acquire(options_.state_dir);
  if (!lock.ok()) {
    return lock.status();
  }
  state_lock_.emplace(std::move(*lock));
  if (auto status = PrepareSocketPath(options_.socket_path); !status.ok()) {
    return status;
  }
  // Until every lab is back the socket answers, but only to say so (health NOT_SERVING).
  std::vector<std::string> names(std::begin(kServiceNames), std::end(kServiceNames));
  auto recovery = RecoveryServer::Start(options_.socket_path, options_.state_dir, names);
  if (!recovery.ok()) {
    return recovery.status();
  }
  auto capabilities = caps::ProbeCapabilities();
  for (const auto& feature : capabilities.features()) {
    NSLAB_LOG(Info) << "capability " << feature.name() << ": "
                    << (feature.available() ? "yes" : absl::StrCat("no (", feature.detail(), ")"));
  }
  const impair::kernel::KernelFeatures features{
      .netem = caps::Has(capabilities, "netem"),
      .tbf = caps::Has(capabilities, "tbf"),
      .netem_seed = caps::Has(capabilities, "netem_seed"),
      .htb = caps::Has(capabilities, "htb"),
      .nft_egress = caps::Has(capabilities, "nftables_egress")};
  const bool has_nftables_inet = caps::Has(capabilities, "nftables");
  labs_ = std::make_unique<lab::LabRegistry>(lab::StateStore(options_.state_dir), &processes_,
                                             &supervisor_, features, &events_);
  labs_->set_ustack_binary(options_.ustack_binary);
  labs_->set_progress_after(absl::Milliseconds(options_.progress_after_ms));
  std::vector<std::string> log;
  if (auto status = labs_->Recover(&log); !status.ok()) {
    return status;
  }
  for (const auto& line : log) {
    NSLAB_LOG(Info) << line;
  }

  // The serving socket is made beside the recovery server's and renamed over it, so a client
  // never finds the path missing: it reaches one server or the other.
  const std::string serving_path = options_.socket_path + ".serving";
  ::unlink(serving_path.c_str());
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat("unix:", serving_path), grpc::InsecureServerCredentials());
  int tcp_port = 0;
  if (*tcp_credentials) {
    builder.AddListeningPort(options_.tcp_address, *tcp_credentials, &tcp_port);
  }
  services_.push_back(std::make_unique<LabsService>(labs_.get(), &events_));
  services_.push_back(std::make_unique<ExecService>(labs_.get(), &processes_));
  services_.push_back(std::make_unique<SystemService>(std::move(capabilities)));
  chaos_ = std::make_unique<chaos::ChaosEngine>(labs_.get(), has_nftables_inet);
  services_.push_back(std::make_unique<ChaosService>(chaos_.get()));
  diag_ = std::make_unique<diag::DiagEngine>(labs_.get());
  scenarios_ = std::make_unique<scenario::LabScenarios>(scenario::LabScenarios::Parts{
      labs_.get(), chaos_.get(), &supervisor_, &processes_, &events_});
  services_.push_back(std::make_unique<ScenarioService>(scenarios_.get()));
  services_.push_back(std::make_unique<DiagService>(diag_.get()));
  services_.push_back(std::make_unique<ParticipantsService>(labs_.get()));
  for (auto& service : services_) {
    builder.RegisterService(service.get());
  }
  names.push_back("grpc.health.v1.Health");
  names.push_back("grpc.reflection.v1.ServerReflection");
  names.push_back("grpc.reflection.v1alpha.ServerReflection");
  reflection_v1_ = std::make_unique<ReflectionV1Service>(names);
  builder.RegisterService(reflection_v1_.get());
  server_ = builder.BuildAndStart();
  if (!server_ || (*tcp_credentials && tcp_port == 0)) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.socket_path,
                                               options_.tcp_address.empty() ? "" : " or ",
                                               options_.tcp_address));
  }
  // Health per service, as Kubernetes probes and grpc-health-probe ask it: every lab is
  // back, so every service is ready, before the first client can reach this server.
  auto* health = server_->GetHealthCheckService();
  health->SetServingStatus(true);
  for (const char* name : kServiceNames) {
    health->SetServingStatus(name, true);
  }
  if (tcp_port != 0) {
    // Said before the unix socket takes its name: a client that finds the daemon serving
    // there finds this line in the log too (port 0 asked the kernel for a free port).
    NSLAB_LOG(Info) << "nslabd listening on " << options_.tcp_address << " (mutual TLS, port "
                    << tcp_port << ")";
  }
  if (socket_gid && ::chown(serving_path.c_str(), static_cast<uid_t>(-1), *socket_gid) != 0) {
    return ErrnoStatus(
        absl::StrCat("--socket-group ", options_.socket_group, ": chown ", serving_path), errno);
  }
  if (::chmod(serving_path.c_str(), 0660) != 0) {
    return ErrnoStatus(absl::StrCat("chmod 0660 ", serving_path), errno);
  }
  if (::rename(serving_path.c_str(), options_.socket_path.c_str()) != 0) {
    return ErrnoStatus(absl::StrCat("rename ", serving_path, " to ", options_.socket_path), errno);
  }
  recovery_ = std::move(*recovery);
  recovery_->Retire();  // its clients reconnect to the serving daemon
  NSLAB_LOG(Info) << "nslabd listening on unix:" << options_.socket_path
                  << (socket_gid ? absl::StrCat(" (group ", options_.socket_group, ")") : "");
  reaper_ = std::thread([this] { ReapExpiredLabs(); });
  return absl::OkStatus();
}

void DaemonServer::ReapExpiredLabs() {
  while (!stopping_.WaitForNotificationWithTimeout(absl::Seconds(1))) {
    for (const auto& name : labs_->ExpireLabs(absl::Now())) {
      NSLAB_LOG(Info) << "lab " << name << " reached its TTL and was deleted";
    }
  }
}

void DaemonServer::Wait() {
  if (server_) {
    server_->Wait();
  }
}

void DaemonServer::Shutdown() {
  // nslabd's signal thread calls this, which lets Wait() return in main, whose
  // ~DaemonServer calls it again while the first call may still be joining the reaper:
  // joining it twice threw std::system_error and aborted the daemon. A second caller now
  // waits for the first to finish.
  std::call_once(shutdown_once_, [this] {
    if (!stopping_.HasBeenNotified()) {
      stopping_.Notify();
    }
    recovery_.reset();
    if (server_) {
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
      // gRPC removes the path it bound (the .serving name, renamed since); this one is ours.
      ::unlink(options_.socket_path.c_str());
    }
    if (reaper_.joinable()) {
      reaper_.join();
    }
  });
}

}  // namespace nslab::server
