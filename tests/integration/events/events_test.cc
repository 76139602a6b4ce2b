// LabsService.WatchEvents against a real nslabd: the armed message first, a link going down
// and up (ChaosService.SetLinkState), a `restart: always` process killed and restarted, and
// LAB_DELETED as the last event before the stream ends; NOT_FOUND for an unknown lab.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nslab/v1/chaos.grpc.pb.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using nslab::v1::LabEvent;
using ::testing::HasSubstr;

constexpr char kTwoHosts[] = R"(
nodes: {client: {}, server: {}}
links: [{a: client:eth0, b: server:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}]
run:
  server: [{argv: [sleep, "3600"], restart: always}]
)";

// One watch: the stream and what it delivered so far (for failure messages).
class Watch {
 public:
  Watch(TestDaemon* daemon, const std::string& lab) {
    // A bound on the whole test: an event that never comes fails instead of hanging.
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    nslab::v1::WatchEventsRequest request;
    request.set_lab(lab);
    reader_ = daemon->labs().WatchEvents(&context_, request);
  }

  // The next event matching `wanted` (others are recorded and skipped); nothing when the
  // stream ends first.
  std::optional<LabEvent> Until(const std::function<bool(const LabEvent&)>& wanted) {
    nslab::v1::WatchEventsResponse response;
    while (reader_->Read(&response)) {
      seen_.push_back(absl::StrCat(nslab::v1::LabEventKind_Name(response.event().kind()), " ",
                                   response.event().message()));
      if (wanted(response.event())) {
        return response.event();
      }
    }
    return std::nullopt;
  }
  std::optional<LabEvent> Next() {
    return Until([](const LabEvent&) { return true; });
  }
  grpc::Status Finish() { return reader_->Finish(); }
  std::string Seen() const { return absl::StrJoin(seen_, "\n"); }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<nslab::v1::WatchEventsResponse>> reader_;
  std::vector<std::string> seen_;
};

auto Kind(nslab::v1::LabEventKind kind) {
  return [kind](const LabEvent& event) { return event.kind() == kind; };
}

auto LinkMessage(const std::string& message) {
  return [message](const LabEvent& event) {
    return event.kind() == nslab::v1::LAB_EVENT_KIND_LINK_STATE && event.message() == message;
  };
}

class EventsTest : public DaemonSuite<> {};

TEST_F(EventsTest, AWatchSeesLinksProcessesAndTheDeletionLast) {
  const std::string name = UniqueLabName("events");
  LabGuard guard(daemon_, name);
  ASSERT_TRUE(daemon_->CreateFromYaml(kTwoHosts, name).ok());

  Watch watch(daemon_, name);
  auto armed = watch.Next();
  ASSERT_TRUE(armed.has_value()) << watch.Finish().error_message();
  EXPECT_EQ(armed->kind(), nslab::v1::LAB_EVENT_KIND_UNSPECIFIED);
  EXPECT_EQ(armed->lab(), name);

  auto chaos = nslab::v1::ChaosService::NewStub(daemon_->channel());
  auto set_link = [&](bool up) {
    nslab::v1::SetLinkStateRequest request;
    request.set_lab(name);
    request.set_link("client:eth0");
    request.set_up(up);
    request.set_end(nslab::v1::LINK_END_A);
    nslab::v1::SetLinkStateResponse response;
    grpc::ClientContext context;
    return chaos->SetLinkState(&context, request, &response);
  };
  ASSERT_TRUE(set_link(false).ok());
  auto down = watch.Until(LinkMessage("client:eth0 down"));
  ASSERT_TRUE(down.has_value()) << watch.Seen();
  EXPECT_EQ(down->node(), "client");
  EXPECT_EQ(down->subject(), "client:eth0");
  EXPECT_TRUE(down->has_time());
  // The peer loses its carrier: an interface going down counts by either flag.
  EXPECT_TRUE(watch.Until(LinkMessage("server:eth0 down")).has_value()) << watch.Seen();
  ASSERT_TRUE(set_link(true).ok());
  EXPECT_TRUE(watch.Until(LinkMessage("client:eth0 up")).has_value()) << watch.Seen();
  // Awaited too: announced on its own, it could otherwise come between the process events.
  EXPECT_TRUE(watch.Until(LinkMessage("server:eth0 up")).has_value()) << watch.Seen();

  // Killed from inside the node, as a crash would: the supervisor reports and restarts it.
  nslab::v1::GetLogsRequest logs_request;
  logs_request.set_lab(name);
  logs_request.set_node("server");
  nslab::v1::GetLogsResponse logs;
  grpc::ClientContext logs_context;
  ASSERT_TRUE(daemon_->labs().GetLogs(&logs_context, logs_request, &logs).ok());
  ASSERT_EQ(logs.processes_size(), 1);
  const auto kill =
      daemon_->Exec(name, "server", {"kill", "-TERM", std::to_string(logs.processes(0).pid())});
  ASSERT_EQ(kill.code, 0) << kill.err;
  auto exited = watch.Until(Kind(nslab::v1::LAB_EVENT_KIND_PROCESS_EXITED));
  ASSERT_TRUE(exited.has_value()) << watch.Seen();
  EXPECT_EQ(exited->node(), "server");
  EXPECT_EQ(exited->subject(), "sleep");
  EXPECT_THAT(exited->message(), HasSubstr("SIGTERM"));
  auto restarted = watch.Next();
  ASSERT_TRUE(restarted.has_value()) << watch.Seen();
  EXPECT_EQ(restarted->kind(), nslab::v1::LAB_EVENT_KIND_PROCESS_RESTARTED) << watch.Seen();
  EXPECT_EQ(restarted->subject(), "sleep");

  ASSERT_TRUE(daemon_->Delete(name).ok());
  auto deleted = watch.Until(Kind(nslab::v1::LAB_EVENT_KIND_LAB_DELETED));
  ASSERT_TRUE(deleted.has_value()) << watch.Seen();
  EXPECT_FALSE(watch.Next().has_value()) << "an event after LAB_DELETED:\n" << watch.Seen();
  const grpc::Status end = watch.Finish();
  EXPECT_TRUE(end.ok()) << end.error_message();
}

// Link events come from one socket that hears every namespace nslabd gave an id; a daemon
// started again finds the ids its predecessor gave and hears a lab it took up again.
TEST(LinkEventsAcrossRestartTest, ALabTakenUpAgainIsHeard) {
  TestDaemon daemon;
  const std::string name = UniqueLabName("evrestart");
  LabGuard guard(&daemon, name);
  ASSERT_TRUE(daemon.CreateFromYaml(kTwoHosts, name).ok());
  daemon.Stop(SIGTERM);
  daemon.Restart();
  ASSERT_TRUE(WaitUntilServing(daemon.channel(),
                               std::chrono::system_clock::now() + std::chrono::seconds(30)));

  Watch watch(&daemon, name);
  ASSERT_TRUE(watch.Next().has_value()) << watch.Finish().error_message();
  // From inside the node, as a user would: nslabd is not the one changing it.
  const auto down = daemon.Exec(name, "server", {"ip", "link", "set", "eth0", "down"});
  ASSERT_EQ(down.code, 0) << down.err << down.status.error_message();
  EXPECT_TRUE(watch.Until(LinkMessage("server:eth0 down")).has_value()) << watch.Seen();
  EXPECT_TRUE(watch.Until(LinkMessage("client:eth0 down")).has_value()) << watch.Seen();
  const auto up = daemon.Exec(name, "server", {"ip", "link", "set", "eth0", "up"});
  ASSERT_EQ(up.code, 0) << up.err << up.status.error_message();
  EXPECT_TRUE(watch.Until(LinkMessage("server:eth0 up")).has_value()) << watch.Seen();
  EXPECT_TRUE(daemon.Delete(name).ok());
}

TEST_F(EventsTest, EveryWatcherHearsTheDeletion) {
  const std::string name = UniqueLabName("events");
  LabGuard guard(daemon_, name);
  ASSERT_TRUE(daemon_->CreateFromYaml(kTwoHosts, name).ok());
  Watch first(daemon_, name);
  Watch second(daemon_, name);
  ASSERT_TRUE(first.Next().has_value());
  ASSERT_TRUE(second.Next().has_value());
  ASSERT_TRUE(daemon_->Delete(name).ok());
  for (Watch* watch : {&first, &second}) {
    auto last = watch->Until(Kind(nslab::v1::LAB_EVENT_KIND_LAB_DELETED));
    ASSERT_TRUE(last.has_value()) << watch->Seen();
    EXPECT_FALSE(watch->Next().has_value());
    EXPECT_TRUE(watch->Finish().ok());
  }
}

TEST_F(EventsTest, AnUnknownLabIsNotFound) {
  Watch watch(daemon_, UniqueLabName("no-such-lab"));
  EXPECT_FALSE(watch.Next().has_value());
  const grpc::Status status = watch.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("does not exist"));
}

}  // namespace
}  // namespace nslab::testing
