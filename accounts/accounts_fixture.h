// The fixture the accounts unit tests share: an Accounts over an in-memory store, with fast
// hashing and a clock the test moves by hand.
#pragma once

#include "accounts/accounts.h"
#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"

namespace penncloud::accounts {

class AccountsTest : public ::testing::Test {
 protected:
  AccountsTest()
      : accounts_(&store_, Options{.hash_params = kTestHashParams,
                                   .session_ttl = absl::Hours(1),
                                   .max_backoff = absl::Minutes(15),
                                   .now = [this] { return now_; }}) {}

  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  kvs::MemoryClient store_;
  Accounts accounts_;
};

}  // namespace penncloud::accounts
