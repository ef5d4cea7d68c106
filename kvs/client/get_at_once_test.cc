#include "kvs/client/get_at_once.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kvs/client/forwarding_client.h"
#include "kvs/client/memory_client.h"

namespace penncloud::kvs {
namespace {

// Holds every other StartGet and, once `hold` are held, answers them on a thread of its own,
// last first; leaves the rest unsettled (as a moved leader or a stale shard map would), and
// counts the Gets that then read them again.
class HalfSettlingClient : public ForwardingClient {
 public:
  HalfSettlingClient(Client& inner, size_t hold) : ForwardingClient(inner), hold_(hold) {}
  ~HalfSettlingClient() override {
    if (answerer_.joinable()) answerer_.join();
  }

  void StartGet(std::string_view row, std::string_view column,
                std::function<void(StartedGet)> done) override {
    if (started_++ % 2 == 1) {
      done(std::nullopt);
      return;
    }
    held_.push_back([this, row = std::string(row), column = std::string(column),
                     done = std::move(done)] { done(ForwardingClient::Get(row, column)); });
    if (held_.size() == hold_) {
      answerer_ = std::thread([this] {
        for (auto it = held_.rbegin(); it != held_.rend(); ++it) (*it)();
      });
    }
  }
  absl::StatusOr<std::string> Get(std::string_view row, std::string_view column) override {
    ++gets_;
    return ForwardingClient::Get(row, column);
  }

  int gets() const { return gets_; }

 private:
  const size_t hold_;
  int started_ = 0;
  std::atomic<int> gets_{0};
  std::vector<std::function<void()>> held_;
  std::thread answerer_;
};

TEST(GetAtOnceTest, EveryCellInTheOrderAskedWithMissingOnesNotFound) {
  MemoryClient store;
  ASSERT_TRUE(store.Put("r", "a", "1").ok());
  ASSERT_TRUE(store.Put("s", "b", "2").ok());
  auto values = GetAtOnce(store, {{"s", "b"}, {"r", "missing"}, {"r", "a"}});
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[0].value_or("?"), "2");
  EXPECT_TRUE(absl::IsNotFound(values[1].status()));
  EXPECT_EQ(values[2].value_or("?"), "1");
  EXPECT_TRUE(GetAtOnce(store, {}).empty());
}

TEST(GetAtOnceTest, ReadsLeftUnsettledAreReadAgainWithGet) {
  MemoryClient store;
  std::vector<CellAddress> cells;
  for (int i = 0; i < 40; ++i) {
    const std::string column = absl::StrCat("c", i);
    ASSERT_TRUE(store.Put("row", column, absl::StrCat("v", i)).ok());
    cells.push_back({"row", column});
  }
  HalfSettlingClient client(store, /*hold=*/20);
  auto values = GetAtOnce(client, cells);
  ASSERT_EQ(values.size(), cells.size());
  for (int i = 0; i < 40; ++i) EXPECT_EQ(values[i].value_or("?"), absl::StrCat("v", i));
  EXPECT_EQ(client.gets(), 20);
}

TEST(GetAtOnceTest, AStoreThatFailsFailsEachRead) {
  MemoryClient store;
  ASSERT_TRUE(store.Put("r", "a", "1").ok());
  store.SetUnavailable(true);
  auto values = GetAtOnce(store, {{"r", "a"}, {"r", "b"}});
  ASSERT_EQ(values.size(), 2u);
  EXPECT_TRUE(absl::IsUnavailable(values[0].status()));
  EXPECT_TRUE(absl::IsUnavailable(values[1].status()));
}

}  // namespace
}  // namespace penncloud::kvs
