// What `nslab up` and `nslab down` print of their progress: a line rewritten in place on a
// terminal, a few whole lines elsewhere, nothing at all when no progress came.
#include "client/progress_print.h"

#include <gtest/gtest.h>

#include <string>

namespace nslab::client {
namespace {

nslab::v1::LabProgress Building(nslab::v1::LabPhase phase, uint32_t nodes, uint32_t links,
                                uint32_t phase_done, uint32_t phase_total, uint64_t ms) {
  nslab::v1::LabProgress progress;
  progress.set_operation(nslab::v1::LAB_OPERATION_BUILD);
  progress.set_phase(phase);
  progress.set_nodes_done(nodes);
  progress.set_nodes_total(100);
  progress.set_links_done(links);
  progress.set_links_total(99);
  progress.set_phase_done(phase_done);
  progress.set_phase_total(phase_total);
  progress.set_elapsed_ms(ms);
  return progress;
}

TEST(ProgressPrinterTest, OnATerminalOneLineIsRewrittenAndEndedWithTheTotal) {
  ProgressPrinter printer(/*terminal=*/true);
  EXPECT_EQ(printer.Update(Building(nslab::v1::LAB_PHASE_ROUTES, 100, 99, 40, 100, 1200)),
            "\rbuilding, routes 40/100: nodes 100/100, links 99/99, 1.2 s");
  // Shorter than the line before: spaces cover what is left of it.
  EXPECT_EQ(printer.Update(Building(nslab::v1::LAB_PHASE_LINKS, 100, 99, 99, 99, 1300)),
            "\rbuilding: nodes 100/100, links 99/99, 1.3 s" + std::string(15, ' '));
  EXPECT_EQ(printer.Finish(/*succeeded=*/true), "\rbuilt: nodes 100/100, links 99/99, 1.3 s   \n");
}

TEST(ProgressPrinterTest, OnATerminalAFailureLeavesTheLastCountStanding) {
  ProgressPrinter printer(/*terminal=*/true);
  (void)printer.Update(Building(nslab::v1::LAB_PHASE_NAMESPACES, 50, 0, 50, 100, 600));
  EXPECT_EQ(printer.Finish(/*succeeded=*/false), "\n");
}

TEST(ProgressPrinterTest, ElsewhereALineAsAPhaseStartsAndAtEachTenthItPasses) {
  ProgressPrinter printer(/*terminal=*/false);
  EXPECT_EQ(printer.Update(Building(nslab::v1::LAB_PHASE_NAMESPACES, 7, 0, 7, 100, 500)),
            "building: nodes 7/100, links 0/99, 0.5 s\n");
  EXPECT_EQ(printer.Update(Building(nslab::v1::LAB_PHASE_NAMESPACES, 9, 0, 9, 100, 750)), "")
      << "still in the first tenth";
  EXPECT_EQ(printer.Update(Building(nslab::v1::LAB_PHASE_NAMESPACES, 35, 0, 35, 100, 1000)),
            "building: nodes 35/100, links 0/99, 1.0 s\n");
  EXPECT_EQ(printer.Update(Building(nslab::v1::LAB_PHASE_NAMESPACES, 100, 0, 100, 100, 1100)),
            "building: nodes 100/100, links 0/99, 1.1 s\n");
  EXPECT_EQ(printer.Update(Building(nslab::v1::LAB_PHASE_LINKS, 100, 0, 0, 99, 1150)),
            "building: nodes 100/100, links 0/99, 1.1 s\n")
      << "a new phase";
  EXPECT_EQ(printer.Finish(/*succeeded=*/true), "built: nodes 100/100, links 0/99, 1.1 s\n");
}

TEST(ProgressPrinterTest, ElsewhereAStalledPhaseGetsALineEveryFewSeconds) {
  ProgressPrinter printer(/*terminal=*/false);
  (void)printer.Update(Building(nslab::v1::LAB_PHASE_NAMESPACES, 0, 0, 0, 100, 500));
  EXPECT_EQ(printer.Update(Building(nslab::v1::LAB_PHASE_NAMESPACES, 0, 0, 0, 100, 5499)), "");
  EXPECT_EQ(printer.Update(Building(nslab::v1::LAB_PHASE_NAMESPACES, 0, 0, 0, 100, 5500)),
            "building: nodes 0/100, links 0/99, 5.5 s\n");
}

TEST(ProgressPrinterTest, APhaseWithoutACountIsPrintedOnceAMoment) {
  ProgressPrinter printer(/*terminal=*/false);
  nslab::v1::LabProgress stopping;
  stopping.set_operation(nslab::v1::LAB_OPERATION_REMOVE);
  stopping.set_phase(nslab::v1::LAB_PHASE_STOPPING);
  stopping.set_nodes_total(100);
  stopping.set_elapsed_ms(600);
  EXPECT_EQ(printer.Update(stopping), "removing, stopping processes: nodes 0/100, 0.6 s\n");
  stopping.set_elapsed_ms(1600);
  EXPECT_EQ(printer.Update(stopping), "");
  EXPECT_EQ(printer.Finish(/*succeeded=*/false), "") << "no closing line after a failure";
}

TEST(ProgressPrinterTest, NoProgressNoOutput) {
  ProgressPrinter terminal(/*terminal=*/true);
  EXPECT_EQ(terminal.Finish(/*succeeded=*/true), "");
  ProgressPrinter plain(/*terminal=*/false);
  EXPECT_EQ(plain.Finish(/*succeeded=*/true), "");
}

}  // namespace
}  // namespace nslab::client
