#include "common/config.h"

#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_FLAG(int, cfg_port, 8001, "test flag");
ABSL_FLAG(std::string, cfg_name, "none", "test flag");
ABSL_FLAG(bool, cfg_tls, true, "test flag");
ABSL_FLAG(std::string, cfg_peers, "", "test flag");

namespace penncloud::config {
namespace {

using ::testing::HasSubstr;

// Each case starts from the compiled defaults.
class ConfigTest : public ::testing::Test {
 private:
  absl::FlagSaver saver_;
};

TEST_F(ConfigTest, OwnTableSetsFlagsOtherTablesDoNot) {
  const char* text = R"(
[cluster]
http_port = 8000
frontend_ports = [8001, 8002]
metrics_port_offset = 10000

[frontend]
cfg_port = 9001
cfg_name = "edge"
cfg_tls = false
cfg_peers = ["a:1", "b:2"]

[smtp]
cfg_port = 2525
)";
  ASSERT_TRUE(ApplyText(text, "t.conf", "frontend").ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_cfg_port), 9001);
  EXPECT_EQ(absl::GetFlag(FLAGS_cfg_name), "edge");
  EXPECT_FALSE(absl::GetFlag(FLAGS_cfg_tls));
  EXPECT_EQ(absl::GetFlag(FLAGS_cfg_peers), "a:1,b:2");
}

TEST_F(ConfigTest, AnotherBinarysTableLeavesFlagsAlone) {
  ASSERT_TRUE(ApplyText("[smtp]\ncfg_port = 2525\n", "t.conf", "pop3").ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_cfg_port), 8001);
}

TEST_F(ConfigTest, UnknownKeyNamesFileLineTableAndKey) {
  absl::Status s = ApplyText("[pop3]\ncfg_port = 1\n\ncfg_prot = 2\n", "t.conf", "pop3");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("t.conf:4: [pop3] cfg_prot: unknown key"));
}

TEST_F(ConfigTest, BadValueNamesKeyAndKeepsTheOldValue) {
  absl::Status s = ApplyText("[pop3]\ncfg_port = \"many\"\n", "t.conf", "pop3");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("t.conf:2: [pop3] cfg_port: bad value 'many'"));
  EXPECT_EQ(absl::GetFlag(FLAGS_cfg_port), 8001);
}

TEST_F(ConfigTest, NestedTableIsNotAValue) {
  absl::Status s = ApplyText("[pop3.cfg_port]\nx = 1\n", "t.conf", "pop3");
  EXPECT_THAT(s.message(), HasSubstr("[pop3] cfg_port: expected a value, not a table"));
}

TEST_F(ConfigTest, UnknownTableIsRefusedByEveryBinary) {
  absl::Status s = ApplyText("[fronted]\ncfg_port = 1\n", "t.conf", "pop3");
  EXPECT_THAT(s.message(), HasSubstr("t.conf:1: [fronted] unknown table"));
}

TEST_F(ConfigTest, KeyOutsideATableIsRefused) {
  absl::Status s = ApplyText("cfg_port = 1\n", "t.conf", "pop3");
  EXPECT_THAT(s.message(), HasSubstr("t.conf:1: cfg_port: keys belong in a table"));
}

TEST_F(ConfigTest, ClusterKeysAreCheckedByEveryBinary) {
  EXPECT_THAT(ApplyText("[cluster]\nhttp_prot = 8000\n", "t.conf", "pop3").message(),
              HasSubstr("t.conf:2: [cluster] http_prot: unknown key"));
  EXPECT_THAT(ApplyText("[cluster]\nsmtp_port = 70000\n", "t.conf", "pop3").message(),
              HasSubstr("[cluster] smtp_port: expected a port number"));
  EXPECT_THAT(ApplyText("[cluster]\nfrontend_ports = [8001, \"x\"]\n", "t.conf", "pop3").message(),
              HasSubstr("[cluster] frontend_ports: expected a list of ports"));
  EXPECT_THAT(ApplyText("[cluster]\nreplicas = 0\n", "t.conf", "pop3").message(),
              HasSubstr("[cluster] replicas: expected a count from 1 to 9"));
  EXPECT_THAT(ApplyText("[cluster]\ndomain = 5\n", "t.conf", "pop3").message(),
              HasSubstr("[cluster] domain: expected a string"));
}

// [cluster] coordinators: addresses only, since start.sh appends the ports itself.
TEST_F(ConfigTest, CoordinatorListTakesAddressesWithoutPorts) {
  EXPECT_TRUE(
      ApplyText("[cluster]\ncoordinators = [\"127.0.0.1\", \"127.0.0.2\"]\n", "t.conf", "pop3")
          .ok());
  for (const char* bad :
       {"[]", "[\"127.0.0.1:8000\"]", "[\"a b\"]", "[\"\"]", "[1]", "\"127.0.0.1\"",
        "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\"]"}) {
    EXPECT_THAT(ApplyText(std::string("[cluster]\ncoordinators = ") + bad + "\n", "t.conf", "pop3")
                    .message(),
                HasSubstr("[cluster] coordinators: expected"))
        << bad;
  }
}

// Found by fuzz/config_fuzz.cc: a float too large for an integer where a port or count
// belongs was converted anyway (undefined behaviour); now it is simply not a port.
TEST_F(ConfigTest, HugeFloatsAreNotPortsOrCounts) {
  EXPECT_THAT(ApplyText("[cluster]\nfrontend_ports = [8001, 8e22]\n", "t.conf", "pop3").message(),
              HasSubstr("[cluster] frontend_ports: expected a list of ports"));
  EXPECT_THAT(ApplyText("[cluster]\nsmtp_port = -8e22\n", "t.conf", "pop3").message(),
              HasSubstr("[cluster] smtp_port: expected a port number"));
  EXPECT_THAT(ApplyText("[cluster]\nreplicas = inf\n", "t.conf", "pop3").message(),
              HasSubstr("[cluster] replicas: expected a count from 1 to 9"));
  EXPECT_THAT(ApplyText("[cluster]\nhttp_port = 8000.0\n", "t.conf", "pop3").message(),
              HasSubstr("[cluster] http_port: expected a port number"));
}

// toml++ bounds how deep arrays and inline tables nest (TOML_MAX_NESTED_VALUES, 256), so a
// hostile file cannot recurse the parser off the stack: 256 levels parse (the value is then
// refused as a flag's value), 257 are refused by the parser, naming the line.
TEST_F(ConfigTest, NestingAtTheParsersLimitParsesOneMoreIsRefused) {
  auto nested = [](int levels) {
    return "[pop3]\ncfg_name = " + std::string(levels - 1, '[') + "1" +
           std::string(levels - 1, ']') + "\n";
  };
  absl::Status at = ApplyText(nested(256), "t.conf", "pop3");
  EXPECT_THAT(at.message(), HasSubstr("cfg_name"));
  EXPECT_THAT(at.message(), ::testing::Not(HasSubstr("nested")));
  absl::Status over = ApplyText(nested(257), "t.conf", "pop3");
  EXPECT_EQ(over.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(over.message(), HasSubstr("t.conf:2: "));
  EXPECT_THAT(over.message(), HasSubstr("nested value depth of 256"));
  EXPECT_THAT(ApplyText(nested(100000), "t.conf", "pop3").message(), HasSubstr("nested"));
}

TEST_F(ConfigTest, SyntaxErrorNamesTheLine) {
  absl::Status s = ApplyText("[pop3]\ncfg_port = 1\ncfg_name = \"open\n", "t.conf", "pop3");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("t.conf:3: "));
}

TEST_F(ConfigTest, CommandLineOnlyFlagsAreRefusedInTheFile) {
  EXPECT_THAT(ApplyText("[pop3]\nconfig_file = \"x\"\n", "t.conf", "pop3").message(),
              HasSubstr("[pop3] config_file: only meaningful on the command line"));
}

TEST_F(ConfigTest, MissingFileIsNamed) {
  absl::Status s = ApplyFile("/nonexistent/penncloud.conf", "pop3");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("/nonexistent/penncloud.conf: cannot read"));
}

// The file the project ships passes the checks every binary makes.
TEST_F(ConfigTest, ShippedConfigIsValid) {
  absl::Status s = ApplyFile(PENNCLOUD_SOURCE_DIR "/config/penncloud.conf", "config_test");
  EXPECT_TRUE(s.ok()) << s;
}

}  // namespace
}  // namespace penncloud::config
