// What a restarted nslabd does with the labs the previous one left: it removes only
// namespaces that are still the ones it made.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::HasSubstr;

bool NamespaceExists(const std::string& name) {
  return std::filesystem::exists("/run/netns/" + name);
}

int Shell(const std::string& command) { return system(command.c_str()); }

// Keeps a namespace alive (and its inode number taken) after its name is gone.
struct HeldFd {
  explicit HeldFd(int fd) : fd(fd) {}
  ~HeldFd() {
    if (fd >= 0) {
      close(fd);
    }
  }
  HeldFd(const HeldFd&) = delete;
  HeldFd& operator=(const HeldFd&) = delete;
  int fd;
};

// A namespace the test itself made with `ip netns add`, deleted by its exact name at the end.
class ForeignNamespace {
 public:
  explicit ForeignNamespace(std::string name) : name_(std::move(name)) {
    made_ = Shell("ip netns add " + name_) == 0 &&
            Shell("ip -n " + name_ + " link add foreign0 type veth peer name foreign1") == 0;
  }
  ~ForeignNamespace() {
    if (NamespaceExists(name_)) {
      (void)Shell("ip netns delete " + name_);
    }
  }
  ForeignNamespace(const ForeignNamespace&) = delete;
  ForeignNamespace& operator=(const ForeignNamespace&) = delete;

  bool made() const { return made_; }
  // Still there, with what the test put inside.
  bool Intact() const { return Shell("ip -n " + name_ + " link show foreign0 >/dev/null") == 0; }

 private:
  std::string name_;
  bool made_ = false;
};

class LabRecoveryTest : public DaemonSuite<> {
 protected:
  std::string StatePath(const std::string& lab) const {
    return daemon_->state_dir() + "/" + lab + ".json";
  }

  grpc::StatusCode GetLabCode(const std::string& lab, nslab::v1::Lab* out = nullptr) {
    nslab::v1::GetLabRequest request;
    request.set_name(lab);
    nslab::v1::Lab ignored;
    grpc::ClientContext context;
    return daemon_->labs().GetLab(&context, request, out ? out : &ignored).error_code();
  }
};

// Someone deletes a lab's namespace by hand and makes their own under the same name. The
// old namespace is held open meanwhile, so the new one cannot get its inode number.
TEST_F(LabRecoveryTest, AForeignNamespaceUnderARecordedNameSurvivesDelete) {
  const std::string name = UniqueLabName("owndel");
  const std::string replaced = name + "-client";
  LabGuard guard(daemon_, name);
  ASSERT_TRUE(daemon_->CreateFromYaml(ReadSourceFile("topologies/quickstart.yaml"), name).ok());
  HeldFd old(open(("/run/netns/" + replaced).c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_GE(old.fd, 0);
  ASSERT_EQ(Shell("ip netns delete " + replaced), 0);
  ForeignNamespace foreign(replaced);
  ASSERT_TRUE(foreign.made());

  auto status = daemon_->Delete(name);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(foreign.Intact()) << "the lab's delete removed a namespace it did not make";
  EXPECT_FALSE(NamespaceExists(name + "-server"));
  EXPECT_FALSE(std::filesystem::exists(StatePath(name)));
  EXPECT_THAT(daemon_->LogText(),
              HasSubstr("namespace " + replaced + " is not the one lab " + name + " made"));
}

TEST_F(LabRecoveryTest, AForeignNamespaceUnderARecordedNameSurvivesRecovery) {
  const std::string name = UniqueLabName("ownrec");
  const std::string replaced = name + "-client";
  LabGuard guard(daemon_, name);  // should recovery wrongly keep it
  ASSERT_TRUE(daemon_->CreateFromYaml(ReadSourceFile("topologies/quickstart.yaml"), name).ok());
  daemon_->Stop(SIGKILL);
  HeldFd old(open(("/run/netns/" + replaced).c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_GE(old.fd, 0);
  ASSERT_EQ(Shell("ip netns delete " + replaced), 0);
  ForeignNamespace foreign(replaced);
  ASSERT_TRUE(foreign.made());

  daemon_->Restart();
  EXPECT_TRUE(foreign.Intact()) << "recovery removed a namespace the lab did not make";
  // The lab cannot run in a namespace that is not its own: the rest of it is removed.
  EXPECT_EQ(GetLabCode(name), grpc::StatusCode::NOT_FOUND);
  (void)daemon_->Delete(name);  // whatever recovery might have kept
  EXPECT_TRUE(foreign.Intact()) << "the recovered lab's delete removed a namespace it did not make";
  EXPECT_FALSE(NamespaceExists(name + "-server"));
  EXPECT_FALSE(std::filesystem::exists(StatePath(name)));
  EXPECT_THAT(daemon_->LogText(),
              HasSubstr("namespace " + replaced + " is not the one lab " + name + " made"));
}

// A state file's claim is checked against the kernel: one that records an identity the
// namespace does not have (hand-written here) gets it left alone.
TEST_F(LabRecoveryTest, AStateFileWithAnotherIdentityDoesNotDeleteTheNamespace) {
  const std::string name = UniqueLabName("ownfile");
  ForeignNamespace foreign(name + "-a");
  ASSERT_TRUE(foreign.made());
  {
    std::ofstream state(StatePath(name));
    state << R"({"name": ")" << name << R"(", "state": "LAB_STATE_DELETING", "nodes": [)"
          << R"({"name": "a", "netns": ")" << name
          << R"(-a", "netnsIdentity": {"device": "1", "inode": "1", "cookie": "1"}}]})";
  }
  daemon_->Stop(SIGKILL);
  daemon_->Restart();
  EXPECT_TRUE(foreign.Intact());
  EXPECT_FALSE(std::filesystem::exists(StatePath(name)));
  EXPECT_EQ(GetLabCode(name), grpc::StatusCode::NOT_FOUND);
}
}  // namespace
}  // namespace nslab::testing
