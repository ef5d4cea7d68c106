#include "kvs/server/nonce.h"

#include <mutex>
#include <random>

namespace penncloud::kvs::server {

uint64_t Nonce() {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  std::lock_guard<std::mutex> lock(mu);
  uint64_t n = 0;
  while (n == 0) n = rng();
  return n;
}

}  // namespace penncloud::kvs::server
