// Who may drive nslabd: over TCP only a client with a certificate from the CA nslabd was
// given (--tls-ca), loopback included; on the unix socket root and --socket-group. The
// certificates are made for each run by tests/e2e/tls_certs.sh, with the commands
// docs/api.md shows.
#include <gmock/gmock.h>
#include <grp.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "nslab/v1/labs.grpc.pb.h"
#include "tests/integration/support/shell_process.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The certificates of one CA, as tls_certs.sh writes them into `dir`.
struct Pki {
  std::string dir;
  std::string file(const std::string& name) const { return dir + "/" + name; }
};

Pki MakePki(const std::string& dir, const std::string& ca_name) {
  const CommandResult made =
      RunCommand(absl::StrCat("bash ", NSLAB_SOURCE_DIR, "/tests/e2e/tls_certs.sh ", dir, " '",
                              ca_name, "' IP:127.0.0.1,DNS:localhost"));
  EXPECT_EQ(made.code, 0) << made.output;
  return Pki{dir};
}

class TcpMutualTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/nslab-mtls-XXXXXX";
    dir_ = new std::string(::mkdtemp(tmpl));
    pki_ = new Pki(MakePki(*dir_ + "/pki", "nslab test CA"));
    other_ = new Pki(MakePki(*dir_ + "/other", "another CA"));
    // Port 0: the kernel picks a free one, and nslabd's log says which.
    daemon_ =
        new TestDaemon({"--listen", "127.0.0.1:0", "--tls-cert", pki_->file("server.pem"),
                        "--tls-key", pki_->file("server.key"), "--tls-ca", pki_->file("ca.pem")});
    std::smatch port;
    const std::string log = daemon_->LogText();
    if (std::regex_search(log, port, std::regex("mutual TLS, port ([0-9]+)"))) {
      address_ = new std::string(absl::StrCat("127.0.0.1:", port[1].str()));
    }
  }
  static void TearDownTestSuite() {
    delete daemon_;
    std::error_code error;
    std::filesystem::remove_all(*dir_, error);
    delete address_;
    delete other_;
    delete pki_;
    delete dir_;
  }

  void SetUp() override {
    ASSERT_NE(address_, nullptr) << "nslabd's log names no TCP port:\n" << daemon_->LogText();
  }

  // A channel to nslabd's TCP port with these credentials, and nothing shared with another.
  static std::shared_ptr<grpc::Channel> Channel(
      const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(*address_, credentials, args);
  }

  static std::shared_ptr<grpc::ChannelCredentials> Tls(const std::string& ca,
                                                       const std::string& cert,
                                                       const std::string& key) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFile(ca);
    ssl.pem_cert_chain = cert.empty() ? "" : ReadFile(cert);
    ssl.pem_private_key = key.empty() ? "" : ReadFile(key);
    return grpc::SslCredentials(ssl);
  }

  static grpc::Status ListLabs(const std::shared_ptr<grpc::Channel>& channel) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    nslab::v1::ListLabsResponse response;
    return nslab::v1::LabsService::NewStub(channel)->ListLabs(&context, {}, &response);
  }

  // Starts another nslabd on its own socket and state directory with `args`; it must refuse
  // to start, and its output is returned. Nothing may be left listening.
  static std::string RefusedStart(const std::string& name, const std::string& args) {
    const std::string socket = *dir_ + "/" + name + ".sock";
    const CommandResult run =
        RunCommand(absl::StrCat("timeout 20 ", NSLABD_PATH, " --socket ", socket, " --state-dir ",
                                *dir_, "/", name, "-state ", args));
    EXPECT_NE(run.code, 0) << "nslabd " << args << " started: " << run.output;
    EXPECT_NE(run.code, 124) << "nslabd " << args << " was still running after 20 s";
    EXPECT_FALSE(std::filesystem::exists(socket)) << "nslabd " << args << " listened";
    return run.output;
  }

  static inline std::string* dir_ = nullptr;
  static inline Pki* pki_ = nullptr;
  static inline Pki* other_ = nullptr;
  static inline TestDaemon* daemon_ = nullptr;
  static inline std::string* address_ = nullptr;
};

TEST_F(TcpMutualTlsTest, AClientWithACertificateFromTheCaIsServed) {
  auto channel =
      Channel(Tls(pki_->file("ca.pem"), pki_->file("client.pem"), pki_->file("client.key")));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::health::v1::HealthCheckResponse health;
  const grpc::Status checked =
      grpc::health::v1::Health::NewStub(channel)->Check(&context, {}, &health);
  ASSERT_TRUE(checked.ok()) << checked.error_message();
  EXPECT_EQ(health.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  const grpc::Status listed = ListLabs(channel);
  EXPECT_TRUE(listed.ok()) << listed.error_message();
}

TEST_F(TcpMutualTlsTest, AClientWithACertificateFromAnotherCaIsRefused) {
  const grpc::Status status = ListLabs(
      Channel(Tls(pki_->file("ca.pem"), other_->file("client.pem"), other_->file("client.key"))));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(TcpMutualTlsTest, AClientWithoutACertificateIsRefused) {
  const grpc::Status status = ListLabs(Channel(Tls(pki_->file("ca.pem"), "", "")));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(TcpMutualTlsTest, APlaintextClientIsRefusedOnLoopback) {
  const grpc::Status status = ListLabs(Channel(grpc::InsecureChannelCredentials()));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

// The client's own check: a server whose certificate its CA did not sign is not nslabd.
TEST_F(TcpMutualTlsTest, AClientThatDoesNotTrustTheServersCaRefusesIt) {
  const grpc::Status status = ListLabs(
      Channel(Tls(other_->file("ca.pem"), pki_->file("client.pem"), pki_->file("client.key"))));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(TcpMutualTlsTest, ListenWithoutMutualTlsRefusesToStart) {
  const std::string cert = pki_->file("server.pem");
  const std::string key = pki_->file("server.key");
  EXPECT_THAT(RefusedStart("no-ca", absl::StrCat("--listen 127.0.0.1:0 --tls-cert ", cert,
                                                 " --tls-key ", key)),
              AllOf(HasSubstr("needs mutual TLS"), HasSubstr("add --tls-ca FILE"),
                    Not(HasSubstr("--tls-cert FILE"))));
  EXPECT_THAT(
      RefusedStart("no-tls", "--listen 127.0.0.1:0"),
      AllOf(HasSubstr("--tls-cert FILE"), HasSubstr("--tls-key FILE"), HasSubstr("--tls-ca FILE")));
  EXPECT_THAT(RefusedStart("no-listen", absl::StrCat("--tls-cert ", cert, " --tls-key ", key,
                                                     " --tls-ca ", pki_->file("ca.pem"))),
              HasSubstr("add --listen host:port"));
}

TEST_F(TcpMutualTlsTest, AnUnreadableOrWrongTlsFileIsNamedAtStartup) {
  const std::string good = absl::StrCat(" --tls-cert ", pki_->file("server.pem"), " --tls-key ",
                                        pki_->file("server.key"));
  const std::string missing = *dir_ + "/no-such-ca.pem";
  EXPECT_THAT(
      RefusedStart("missing-ca", absl::StrCat("--listen 127.0.0.1:0", good, " --tls-ca ", missing)),
      HasSubstr(absl::StrCat("--tls-ca: cannot read ", missing)));
  // A key where the CA belongs: no certificate in it.
  EXPECT_THAT(
      RefusedStart("key-as-ca", absl::StrCat("--listen 127.0.0.1:0", good, " --tls-ca ",
                                             pki_->file("client.key"))),
      HasSubstr(absl::StrCat("--tls-ca ", pki_->file("client.key"), ": no CA certificate in it")));
  EXPECT_THAT(RefusedStart("cert-as-key", absl::StrCat("--listen 127.0.0.1:0 --tls-cert ",
                                                       pki_->file("server.pem"), " --tls-key ",
                                                       pki_->file("server.pem"), " --tls-ca ",
                                                       pki_->file("ca.pem"))),
              HasSubstr(absl::StrCat("--tls-key ", pki_->file("server.pem"),
                                     ": no unencrypted private key in it")));
  EXPECT_THAT(
      RefusedStart(
          "wrong-key",
          absl::StrCat("--listen 127.0.0.1:0 --tls-cert ", pki_->file("server.pem"), " --tls-key ",
                       pki_->file("client.key"), " --tls-ca ", pki_->file("ca.pem"))),
      HasSubstr(absl::StrCat("--tls-key ", pki_->file("client.key"),
                             " is not the key of the certificate in ", pki_->file("server.pem"))));
}

// A group made for this test alone, deleted by its exact name however the test ends.
class ScratchGroup {
 public:
  ScratchGroup() : name_(absl::StrCat("nslabt", ::getpid())) {
    const CommandResult made = RunCommand("groupadd " + name_);
    created_ = made.code == 0;
    EXPECT_TRUE(created_) << "groupadd " << name_ << ": " << made.output;
  }
  ~ScratchGroup() {
    if (created_) {
      const CommandResult removed = RunCommand("groupdel " + name_);
      EXPECT_EQ(removed.code, 0) << "groupdel " << name_ << ": " << removed.output;
    }
  }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  bool created_ = false;
};

TEST_F(TcpMutualTlsTest, SocketGroupOwnsTheSocketAndAnUnknownGroupIsRefused) {
  ScratchGroup scratch;
  const struct group* entry = ::getgrnam(scratch.name().c_str());
  ASSERT_NE(entry, nullptr);
  const gid_t gid = entry->gr_gid;
  {
    TestDaemon grouped({"--socket-group", scratch.name()});
    struct stat st {};
    ASSERT_EQ(::stat(grouped.socket().c_str(), &st), 0);
    EXPECT_EQ(st.st_gid, gid);
    EXPECT_EQ(st.st_mode & 0777, 0660u);
    EXPECT_THAT(grouped.LogText(), HasSubstr(absl::StrCat("(group ", scratch.name(), ")")));
  }
  EXPECT_THAT(RefusedStart("bad-group", "--socket-group nslab-no-such-group"),
              HasSubstr("--socket-group nslab-no-such-group: no such group"));
}

}  // namespace
}  // namespace nslab::testing
