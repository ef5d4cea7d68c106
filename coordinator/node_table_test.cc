#include "coordinator/node_table.h"

#include <ctime>

#include "gtest/gtest.h"

namespace penncloud::coordinator {
namespace {

TEST(NodeTableTest, ACertificateExpiringWithinThirtyDaysIsFlagged) {
  const int64_t now_ms = int64_t{std::time(nullptr)} * 1000;
  NodeRow row;
  row.id = "kvs-g1-2";
  EXPECT_TRUE(ToJson(row, now_ms)["certificate"].is_null());
  for (const auto& [days, soon] : {std::pair{400, false}, {31, false}, {29, true}, {-1, true}}) {
    row.certificate = tls::CertificateInfo{.identity = tls::Identity::Replica(1, 2),
                                           .not_after_unix = now_ms / 1000 + days * 86400 + 60};
    nlohmann::json cert = ToJson(row, now_ms)["certificate"];
    EXPECT_EQ(cert["identity"].get<std::string>(), "replica/1/2");
    EXPECT_EQ(cert["expiring_soon"].get<bool>(), soon) << days << " days: " << cert.dump();
    EXPECT_EQ(cert["days_left"].get<int>(), days < 0 ? 0 : days) << cert.dump();
  }
}

}  // namespace
}  // namespace penncloud::coordinator
