// The scrubber's pace: a pass over the store never reads faster than its rate, and a stop
// asked for while it waits out the rate ends it at once.
#include "kvs/server/scrubber.h"

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kvs/storage/store_test_fixture.h"

namespace penncloud::kvs::server {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

class ScrubberTest : public storage::StoreTest {
 protected:
  // `rows` cells of 64 KiB each, in one applied slot.
  std::unique_ptr<storage::ReplicaStore> StoreWith(int rows) {
    auto store = Open();
    std::vector<pb::Command> puts;
    for (int i = 0; i < rows; ++i) {
      puts.push_back(storage::PutCommand(absl::StrCat("row", i), std::string(64 << 10, 'v')));
    }
    EXPECT_TRUE(store->ApplySlot(1, puts).ok());
    return store;
  }

  // Waits (at most `limit`) for the scrubber's first pass to end; how long it took.
  static milliseconds FirstPass(const Scrubber& scrubber, milliseconds limit) {
    const auto started = steady_clock::now();
    while (scrubber.passes() == 0 && steady_clock::now() - started < limit) {
      std::this_thread::sleep_for(milliseconds(5));
    }
    EXPECT_EQ(scrubber.passes(), 1u);
    return std::chrono::duration_cast<milliseconds>(steady_clock::now() - started);
  }
};

TEST_F(ScrubberTest, APassReadsNoFasterThanItsRate) {
  auto store = StoreWith(64);  // 4 MiB of values
  Scrubber scrubber(*store, milliseconds(0), std::chrono::hours(1), /*bytes_per_s=*/8 << 20);
  // 4 MiB at 8 MiB/s: half a second at least, less the last unpaced quarter MiB.
  EXPECT_GE(FirstPass(scrubber, milliseconds(20000)).count(), 450);
}

TEST_F(ScrubberTest, WithoutARateAPassRunsAtDiskSpeed) {
  auto store = StoreWith(64);
  Scrubber scrubber(*store, milliseconds(0), std::chrono::hours(1), /*bytes_per_s=*/0);
  FirstPass(scrubber, milliseconds(20000));
}

TEST_F(ScrubberTest, AStopEndsAPassWaitingOutItsRate) {
  auto store = StoreWith(64);
  const auto started = steady_clock::now();
  {
    // 4 MiB at 1 MiB/s would take four seconds.
    Scrubber scrubber(*store, milliseconds(0), std::chrono::hours(1), /*bytes_per_s=*/1 << 20);
    std::this_thread::sleep_for(milliseconds(300));
    EXPECT_EQ(scrubber.passes(), 0u);
  }
  EXPECT_LT(steady_clock::now() - started, milliseconds(2500));
}

}  // namespace
}  // namespace penncloud::kvs::server
