// Progress of long builds and removals: when an event is due (quiet start, throttled ticks,
// phase ends), the text it carries, and the reporter's events over a real clock.
#include "daemon/events/progress.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "daemon/events/event_bus.h"

namespace nslab::events {
namespace {

using absl::Milliseconds;
using nslab::v1::LabProgress;

TEST(ProgressThrottleTest, NothingInTheFirstHalfSecondNotEvenAPhaseEnd) {
  ProgressThrottle throttle;
  EXPECT_FALSE(throttle.Due(Milliseconds(0), /*phase_end=*/true, /*moved=*/true));
  EXPECT_FALSE(throttle.Due(Milliseconds(499), /*phase_end=*/true, /*moved=*/true));
  EXPECT_TRUE(throttle.Due(Milliseconds(500), /*phase_end=*/false, /*moved=*/false))
      << "the first event after the quiet start goes out even if nothing moved";
}

TEST(ProgressThrottleTest, WithoutAQuietStartEveryPhaseEndGoesOut) {
  ProgressThrottle throttle(absl::ZeroDuration());
  EXPECT_TRUE(throttle.Due(Milliseconds(0), /*phase_end=*/true, /*moved=*/true));
  throttle.Published(Milliseconds(0));
  EXPECT_TRUE(throttle.Due(Milliseconds(1), /*phase_end=*/true, /*moved=*/false));
  EXPECT_FALSE(throttle.Due(Milliseconds(1), /*phase_end=*/false, /*moved=*/true));
}

TEST(ProgressThrottleTest, TicksAtMostEveryQuarterSecondAndEverySecondWhenStill) {
  ProgressThrottle throttle;
  throttle.Published(Milliseconds(600));
  EXPECT_FALSE(throttle.Due(Milliseconds(849), false, /*moved=*/true));
  EXPECT_TRUE(throttle.Due(Milliseconds(850), false, /*moved=*/true));
  EXPECT_FALSE(throttle.Due(Milliseconds(1599), false, /*moved=*/false));
  EXPECT_TRUE(throttle.Due(Milliseconds(1600), false, /*moved=*/false)) << "a heartbeat";
}

TEST(ProgressThrottleTest, APhaseEndIsNeverHeldBack) {
  ProgressThrottle throttle;
  throttle.Published(Milliseconds(700));
  EXPECT_TRUE(throttle.Due(Milliseconds(701), /*phase_end=*/true, /*moved=*/false));
}

LabProgress Progress(nslab::v1::LabOperation operation, nslab::v1::LabPhase phase,
                     uint32_t nodes_done, uint32_t links_done, uint32_t phase_done,
                     uint32_t phase_total, uint64_t elapsed_ms) {
  LabProgress progress;
  progress.set_operation(operation);
  progress.set_phase(phase);
  progress.set_nodes_done(nodes_done);
  progress.set_nodes_total(10000);
  progress.set_links_done(links_done);
  progress.set_links_total(9999);
  progress.set_phase_done(phase_done);
  progress.set_phase_total(phase_total);
  progress.set_elapsed_ms(elapsed_ms);
  return progress;
}

TEST(ProgressTextTest, NodesAndLinksOfTotalAndElapsed) {
  const auto building = Progress(nslab::v1::LAB_OPERATION_BUILD, nslab::v1::LAB_PHASE_LINKS, 10000,
                                 2900, 2900, 9999, 4249);
  EXPECT_EQ(ProgressText(building), "building: nodes 10000/10000, links 2900/9999, 4.2 s");
  EXPECT_EQ(ProgressText(building, /*finished=*/true),
            "built: nodes 10000/10000, links 2900/9999, 4.2 s");
}

TEST(ProgressTextTest, APhaseThatCountsNeitherNodesNorLinksShowsItsOwnCount) {
  EXPECT_EQ(ProgressText(Progress(nslab::v1::LAB_OPERATION_BUILD, nslab::v1::LAB_PHASE_ROUTES,
                                  10000, 9999, 400, 10000, 6000)),
            "building, routes 400/10000: nodes 10000/10000, links 9999/9999, 6.0 s");
  EXPECT_EQ(ProgressText(Progress(nslab::v1::LAB_OPERATION_REMOVE, nslab::v1::LAB_PHASE_STOPPING, 0,
                                  0, 0, 0, 700)),
            "removing, stopping processes: nodes 0/10000, links 0/9999, 0.7 s");
  EXPECT_EQ(
      ProgressText(Progress(nslab::v1::LAB_OPERATION_REMOVE, nslab::v1::LAB_PHASE_NAMESPACE_REMOVAL,
                            10000, 9999, 10000, 10000, 12345),
                   /*finished=*/true),
      "removed: nodes 10000/10000, links 9999/9999, 12.3 s");
}

TEST(ProgressTextTest, ALabWithoutLinksShowsNone) {
  LabProgress progress;
  progress.set_phase(nslab::v1::LAB_PHASE_NAMESPACES);
  progress.set_nodes_done(3);
  progress.set_nodes_total(5);
  EXPECT_EQ(ProgressText(progress), "building: nodes 3/5, 0.0 s");
}

std::vector<nslab::v1::LabEvent> Drain(Subscription& watch) {
  std::vector<nslab::v1::LabEvent> events;
  while (auto event = watch.Next(absl::InfinitePast())) {
    events.push_back(*event);
  }
  return events;
}

TEST(ProgressReporterTest, AQuickOperationPublishesNothing) {
  EventBus bus;
  auto watch = bus.Subscribe("lab");
  {
    ProgressReporter reporter(&bus, "lab", nslab::v1::LAB_OPERATION_BUILD, 2, 1);
    reporter.BeginPhase(nslab::v1::LAB_PHASE_NAMESPACES, 2);
    reporter.NodeDone();
    reporter.NodeDone();
    reporter.EndPhase();
    reporter.BeginPhase(nslab::v1::LAB_PHASE_LINKS, 1);
    reporter.LinkDone();
    reporter.EndPhase();
    reporter.Stop();
  }
  EXPECT_TRUE(Drain(*watch).empty());
}

TEST(ProgressReporterTest, ASlowOperationPublishesTicksThenEachPhaseEndAndNothingAfterStop) {
  EventBus bus;
  auto watch = bus.Subscribe("lab");
  ProgressReporter reporter(&bus, "lab", nslab::v1::LAB_OPERATION_BUILD, 4, 3);
  reporter.BeginPhase(nslab::v1::LAB_PHASE_NAMESPACES, 4);
  for (int i = 0; i < 4; ++i) {
    reporter.NodeDone();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  reporter.EndPhase();
  reporter.BeginPhase(nslab::v1::LAB_PHASE_LINKS, 3);
  for (int i = 0; i < 3; ++i) {
    reporter.LinkDone();
  }
  reporter.EndPhase();
  reporter.Stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a tick would come by now

  const auto events = Drain(*watch);
  ASSERT_GE(events.size(), 3u) << "a tick past 500 ms and two phase ends";
  uint64_t previous_ms = 0;
  for (const auto& event : events) {
    EXPECT_EQ(event.kind(), nslab::v1::LAB_EVENT_KIND_PROGRESS);
    EXPECT_EQ(event.lab(), "lab");
    EXPECT_EQ(event.message(), ProgressText(event.progress()));
    EXPECT_GE(event.progress().elapsed_ms(), 500u);
    EXPECT_GE(event.progress().elapsed_ms(), previous_ms);
    previous_ms = event.progress().elapsed_ms();
  }
  const LabProgress& namespaces_end = events[events.size() - 2].progress();
  EXPECT_EQ(namespaces_end.phase(), nslab::v1::LAB_PHASE_NAMESPACES);
  EXPECT_EQ(namespaces_end.phase_done(), 4u);
  EXPECT_EQ(namespaces_end.phase_total(), 4u);
  const LabProgress& last = events.back().progress();
  EXPECT_EQ(last.phase(), nslab::v1::LAB_PHASE_LINKS);
  EXPECT_EQ(last.nodes_done(), 4u);
  EXPECT_EQ(last.nodes_total(), 4u);
  EXPECT_EQ(last.links_done(), 3u);
  EXPECT_EQ(last.links_total(), 3u);
  EXPECT_EQ(last.phase_done(), 3u);
}

TEST(ProgressReporterTest, WithoutABusItOnlyCounts) {
  ProgressReporter reporter(nullptr, "lab", nslab::v1::LAB_OPERATION_REMOVE, 2, 1);
  reporter.BeginPhase(nslab::v1::LAB_PHASE_NAMESPACE_REMOVAL, 2);
  reporter.NodeDone();
  reporter.LinkDone();
  const LabProgress progress = reporter.Snapshot();
  EXPECT_EQ(progress.operation(), nslab::v1::LAB_OPERATION_REMOVE);
  EXPECT_EQ(progress.nodes_done(), 1u);
  EXPECT_EQ(progress.phase_done(), 1u);
  EXPECT_EQ(progress.links_done(), 1u);
}

}  // namespace
}  // namespace nslab::events
