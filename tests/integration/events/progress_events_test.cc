// The progress of builds and removals through a real nslabd with its default rule (nothing in
// the first 500 ms): a watch armed with await_creation before CreateLab sees a slow build's
// PROGRESS events between LAB_CREATED and LAB_READY, and a quick build's watchers see none;
// such a watch ends with the lab or when cancelled, and only so many may wait.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using nslab::v1::LabEvent;
using ::testing::HasSubstr;

constexpr char kTwoHosts[] = R"(
nodes: {client: {}, server: {}}
links: [{a: client:eth0, b: server:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}]
)";

// The same lab, whose build waits over a second for its process to say it is ready: longer
// than the quiet start on any machine.
constexpr char kSlowTwoHosts[] = R"(
nodes: {client: {}, server: {}}
links: [{a: client:eth0, b: server:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}]
run:
  server: [{cmd: "sleep 1.2; echo serving; exec sleep 600", ready: {line: serving}}]
)";

class Watch {
 public:
  Watch(TestDaemon* daemon, const std::string& lab, bool await_creation) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    nslab::v1::WatchEventsRequest request;
    request.set_lab(lab);
    request.set_await_creation(await_creation);
    reader_ = daemon->labs().WatchEvents(&context_, request);
  }
  std::optional<LabEvent> Next() {
    nslab::v1::WatchEventsResponse response;
    if (!reader_->Read(&response)) {
      return std::nullopt;
    }
    seen_.push_back(absl::StrCat(nslab::v1::LabEventKind_Name(response.event().kind()), " ",
                                 response.event().message()));
    return response.event();
  }
  // Every event up to and including the first of `kind`.
  std::vector<LabEvent> Through(nslab::v1::LabEventKind kind) {
    std::vector<LabEvent> events;
    while (auto event = Next()) {
      events.push_back(*event);
      if (event->kind() == kind) {
        break;
      }
    }
    return events;
  }
  void Cancel() { context_.TryCancel(); }
  grpc::Status Finish() { return reader_->Finish(); }
  std::string Seen() const { return absl::StrJoin(seen_, "\n"); }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<nslab::v1::WatchEventsResponse>> reader_;
  std::vector<std::string> seen_;
};

std::vector<nslab::v1::LabEventKind> KindsOf(const std::vector<LabEvent>& events) {
  std::vector<nslab::v1::LabEventKind> kinds;
  for (const auto& event : events) {
    kinds.push_back(event.kind());
  }
  return kinds;
}

class ProgressEventsTest : public DaemonSuite<> {};

TEST_F(ProgressEventsTest, AQuickBuildAndRemovalHaveNoProgressEvents) {
  const std::string name = UniqueLabName("quick");
  LabGuard guard(daemon_, name);
  Watch watch(daemon_, name, /*await_creation=*/true);
  auto armed = watch.Next();
  ASSERT_TRUE(armed.has_value()) << watch.Finish().error_message();
  EXPECT_EQ(armed->kind(), nslab::v1::LAB_EVENT_KIND_UNSPECIFIED);
  EXPECT_EQ(armed->lab(), name);
  EXPECT_THAT(armed->message(), HasSubstr("waiting for lab " + name));

  ASSERT_TRUE(daemon_->CreateFromYaml(kTwoHosts, name).ok());
  EXPECT_THAT(KindsOf(watch.Through(nslab::v1::LAB_EVENT_KIND_LAB_READY)),
              ::testing::ElementsAre(nslab::v1::LAB_EVENT_KIND_LAB_CREATED,
                                     nslab::v1::LAB_EVENT_KIND_LAB_READY))
      << watch.Seen();
  ASSERT_TRUE(daemon_->Delete(name).ok());
  // Its links' state may come first; no progress does.
  EXPECT_THAT(
      KindsOf(watch.Through(nslab::v1::LAB_EVENT_KIND_LAB_DELETED)),
      ::testing::AllOf(::testing::Not(::testing::Contains(nslab::v1::LAB_EVENT_KIND_PROGRESS)),
                       ::testing::Contains(nslab::v1::LAB_EVENT_KIND_LAB_DELETED)))
      << watch.Seen();
  EXPECT_FALSE(watch.Next().has_value()) << "the watch ends with the lab";
  EXPECT_TRUE(watch.Finish().ok());
}

TEST_F(ProgressEventsTest, ASlowBuildIsFollowedFromAWatchArmedBeforeIt) {
  const std::string name = UniqueLabName("slow");
  LabGuard guard(daemon_, name);
  Watch watch(daemon_, name, /*await_creation=*/true);
  ASSERT_TRUE(watch.Next().has_value()) << watch.Finish().error_message();
  ASSERT_TRUE(daemon_->CreateFromYaml(kSlowTwoHosts, name).ok());

  const auto events = watch.Through(nslab::v1::LAB_EVENT_KIND_LAB_READY);
  ASSERT_GE(events.size(), 3u) << watch.Seen();
  EXPECT_EQ(events.front().kind(), nslab::v1::LAB_EVENT_KIND_LAB_CREATED) << watch.Seen();
  EXPECT_EQ(events.back().kind(), nslab::v1::LAB_EVENT_KIND_LAB_READY) << watch.Seen();
  uint64_t previous_ms = 0;
  for (size_t i = 1; i + 1 < events.size(); ++i) {
    ASSERT_EQ(events[i].kind(), nslab::v1::LAB_EVENT_KIND_PROGRESS) << watch.Seen();
    const auto& progress = events[i].progress();
    EXPECT_EQ(progress.operation(), nslab::v1::LAB_OPERATION_BUILD);
    EXPECT_GE(progress.elapsed_ms(), 500u) << "nothing in the quiet start";
    EXPECT_GE(progress.elapsed_ms(), previous_ms);
    previous_ms = progress.elapsed_ms();
    EXPECT_EQ(progress.nodes_total(), 2u);
    EXPECT_EQ(progress.links_total(), 1u);
  }
  // The process's start is what took the time: its phase's end is the last count.
  const auto& last = events[events.size() - 2].progress();
  EXPECT_EQ(last.phase(), nslab::v1::LAB_PHASE_PROCESSES) << watch.Seen();
  EXPECT_EQ(last.phase_done(), 1u);
  EXPECT_EQ(last.phase_total(), 1u);
  EXPECT_EQ(last.nodes_done(), 2u);
  EXPECT_EQ(last.links_done(), 1u);
  EXPECT_GE(last.elapsed_ms(), 1000u);
  EXPECT_EQ(events[events.size() - 2].message(),
            absl::StrCat("building, processes 1/1: nodes 2/2, links 1/1, ",
                         absl::StrFormat("%.1f", last.elapsed_ms() / 1000.0), " s"));

  ASSERT_TRUE(daemon_->Delete(name).ok());
  const auto removal = watch.Through(nslab::v1::LAB_EVENT_KIND_LAB_DELETED);
  ASSERT_FALSE(removal.empty());
  EXPECT_EQ(removal.back().kind(), nslab::v1::LAB_EVENT_KIND_LAB_DELETED) << watch.Seen();
  EXPECT_TRUE(watch.Finish().ok());
}

TEST_F(ProgressEventsTest, AWatchForALabNeverBuiltEndsWhenCancelled) {
  Watch watch(daemon_, UniqueLabName("never"), /*await_creation=*/true);
  ASSERT_TRUE(watch.Next().has_value()) << watch.Finish().error_message();
  watch.Cancel();
  EXPECT_FALSE(watch.Next().has_value());
  EXPECT_EQ(watch.Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(ProgressEventsTest, OnlySoManyWatchesMayAwaitLabsAndCancellingFreesTheirPlaces) {
  // The daemon's bound (LabsService::kMaxAwaitingWatches).
  constexpr int kBound = 64;
  std::vector<std::unique_ptr<Watch>> waiting;
  for (int i = 0; i < kBound; ++i) {
    // The daemon notices a cancelled watch (an earlier test's) within its check interval
    // (250 ms): until then that one still holds its place.
    for (int attempt = 0;; ++attempt) {
      auto watch = std::make_unique<Watch>(daemon_, UniqueLabName(absl::StrCat("wait", i)),
                                           /*await_creation=*/true);
      if (watch->Next().has_value()) {
        waiting.push_back(std::move(watch));
        break;
      }
      const grpc::Status status = watch->Finish();
      ASSERT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
          << i << ": " << status.error_message();
      ASSERT_LT(attempt, 20) << i << ": " << status.error_message();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  Watch refused(daemon_, UniqueLabName("one-too-many"), /*await_creation=*/true);
  EXPECT_FALSE(refused.Next().has_value());
  const grpc::Status status = refused.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("cancel one"));

  waiting.front()->Cancel();
  EXPECT_EQ(waiting.front()->Finish().error_code(), grpc::StatusCode::CANCELLED);
  std::optional<LabEvent> armed;
  for (int attempt = 0; attempt < 20 && !armed.has_value(); ++attempt) {
    Watch again(daemon_, UniqueLabName("again"), /*await_creation=*/true);
    armed = again.Next();
    if (!armed.has_value()) {
      (void)again.Finish();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } else {
      again.Cancel();
      (void)again.Finish();
    }
  }
  EXPECT_TRUE(armed.has_value()) << "a cancelled watch still held its place";
  for (auto& watch : waiting) {
    watch->Cancel();
  }
  // A watch of an existing lab takes no such place, however many wait.
  const std::string name = UniqueLabName("exists");
  LabGuard guard(daemon_, name);
  ASSERT_TRUE(daemon_->CreateFromYaml(kTwoHosts, name).ok());
  Watch existing(daemon_, name, /*await_creation=*/false);
  EXPECT_TRUE(existing.Next().has_value()) << existing.Finish().error_message();
  ASSERT_TRUE(daemon_->Delete(name).ok());
}

TEST_F(ProgressEventsTest, WithoutAwaitCreationAnUnknownLabIsStillNotFound) {
  Watch watch(daemon_, UniqueLabName("unknown"), /*await_creation=*/false);
  EXPECT_FALSE(watch.Next().has_value());
  EXPECT_EQ(watch.Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace nslab::testing
