#include "kvs/client/get_at_once.h"

#include <algorithm>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>

namespace penncloud::kvs {
namespace {

// Threads that read again, with Get, what StartGet left unsettled: a client without the
// quick path (or a sharded client whose map went stale) leaves every read to them.
constexpr size_t kFallbackReaders = 16;

}  // namespace

std::vector<absl::StatusOr<std::string>> GetAtOnce(Client& kvs,
                                                   const std::vector<CellAddress>& cells) {
  // Shared with the callbacks, which may run on the client's threads until the last returns.
  struct Landing {
    std::mutex mu;
    std::condition_variable all_in;
    size_t left = 0;                // GUARDED_BY(mu)
    std::vector<StartedGet> reads;  // GUARDED_BY(mu)
  };
  auto landing = std::make_shared<Landing>();
  landing->left = cells.size();
  landing->reads.resize(cells.size());
  for (size_t i = 0; i < cells.size(); ++i) {
    kvs.StartGet(cells[i].row, cells[i].column, [landing, i](StartedGet read) {
      std::lock_guard<std::mutex> lock(landing->mu);
      landing->reads[i] = std::move(read);
      if (--landing->left == 0) landing->all_in.notify_one();
    });
  }
  std::vector<absl::StatusOr<std::string>> values(cells.size(), absl::UnknownError("unread"));
  std::vector<size_t> unsettled;
  {
    std::unique_lock<std::mutex> lock(landing->mu);
    landing->all_in.wait(lock, [&] { return landing->left == 0; });
    for (size_t i = 0; i < cells.size(); ++i) {
      if (landing->reads[i]) {
        values[i] = *std::move(landing->reads[i]);
      } else {
        unsettled.push_back(i);
      }
    }
  }
  const size_t readers = std::min(unsettled.size(), kFallbackReaders);
  auto read_some = [&](size_t first) {
    for (size_t u = first; u < unsettled.size(); u += readers) {
      const CellAddress& cell = cells[unsettled[u]];
      values[unsettled[u]] = kvs.Get(cell.row, cell.column);
    }
  };
  std::vector<std::future<void>> others;
  for (size_t r = 1; r < readers; ++r)
    others.push_back(std::async(std::launch::async, read_some, r));
  if (readers > 0) read_some(0);
  for (auto& other : others) other.get();
  return values;
}

}  // namespace penncloud::kvs
