#include "common/config.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/version.h"
#include "toml++/toml.h"

ABSL_FLAG(std::string, config_file, "",
          "PennCloud config file (TOML; default $PENNCLOUD_CONFIG, none if unset). Its table "
          "named after this binary sets flag defaults; flags on the command line win.");
ABSL_FLAG(bool, check_config, false,
          "Read the config file and the flags, report any problem, and exit (0: all good).");

namespace penncloud::config {
namespace {

// Tables a file may hold: the layout, one per binary, and [web], the public face of the
// site (HTTPS certificate, public mode), which is the coordinator's flags under a name an
// operator looks for.
constexpr std::array<const char*, 10> kTables = {"cluster",   "kvs_server", "kvsctl", "coordinator",
                                                 "frontend",  "smtp",       "pop3",   "imap",
                                                 "kvs_bench", "web"};

// The [cluster] keys scripts/start.sh reads; checked here so every binary (and
// --check_config) catches a typo or a bad port before anything starts.
enum class Kind { kString, kPort, kPortList, kSmallCount, kAddressList };
struct ClusterKey {
  const char* name;
  Kind kind;
};
constexpr std::array<ClusterKey, 19> kClusterKeys = {{
    {"tls_dir", Kind::kString},  // the cluster CA and the per-process certificates
    {"state_dir", Kind::kString},
    {"domain", Kind::kString},
    {"address", Kind::kString},
    {"http_port", Kind::kPort},
    {"coordinators", Kind::kAddressList},  // one coordinator per address (docs/operations.md)
    {"coordinator_grpc_port", Kind::kPort},
    {"frontend_ports", Kind::kPortList},
    {"smtp_port", Kind::kPort},
    {"pop3_port", Kind::kPort},
    {"smtps_port", Kind::kPort},  // SMTP submission with implicit TLS
    {"pop3s_port", Kind::kPort},  // POP3 with implicit TLS
    {"imap_port", Kind::kPort},   // IMAP, logins after STARTTLS
    {"imaps_port", Kind::kPort},  // IMAP with implicit TLS
    {"https_port", Kind::kPort},  // the coordinator's HTTPS
    {"kvs_port_base", Kind::kPort},
    {"metrics_port_offset", Kind::kPort},  // /metrics on each main port + this
    {"replicas", Kind::kSmallCount},
    {"data_groups", Kind::kSmallCount},
}};

// "<file>:<line>: [table] key: why", the shape every config complaint takes.
absl::Status Bad(const std::string& source, const toml::source_region& where,
                 const std::string& table, const std::string& key, const std::string& why) {
  std::string at = absl::StrCat(source, ":", where.begin.line, ": ");
  if (!table.empty()) absl::StrAppend(&at, "[", table, "] ");
  if (!key.empty()) absl::StrAppend(&at, key, ": ");
  return absl::InvalidArgumentError(absl::StrCat(at, why));
}

// value_exact, not value: value<int64_t>() converts a float such as 8e22 to an integer,
// which is undefined behaviour when it does not fit (found by fuzz/config_fuzz.cc).
bool IsPort(const toml::node& node) {
  auto v = node.value_exact<int64_t>();
  return v && *v >= 1 && *v <= 65535;
}

// Why `node` is not a valid value for the [cluster] key of this kind ("" when it is).
std::string CheckCluster(Kind kind, const toml::node& node) {
  switch (kind) {
    case Kind::kString:
      return node.is_string() ? "" : "expected a string in quotes";
    case Kind::kPort:
      return IsPort(node) ? "" : "expected a port number (1..65535)";
    case Kind::kSmallCount: {
      auto v = node.value_exact<int64_t>();
      return v && *v >= 1 && *v <= 9 ? "" : "expected a count from 1 to 9";
    }
    case Kind::kAddressList: {
      // start.sh splits the list on blanks and builds host:port lists from it, so an entry
      // is one host name or IPv4 address and nothing else.
      const toml::array* list = node.as_array();
      if (list == nullptr || list->empty() || list->size() > 9) {
        return "expected a list of 1 to 9 addresses, e.g. [\"127.0.0.1\", \"127.0.0.2\"]";
      }
      for (const toml::node& entry : *list) {
        auto address = entry.value_exact<std::string>();
        if (!address || address->empty() || address->size() > 253 ||
            address->find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789.-") != std::string::npos) {
          return "expected host names or IPv4 addresses in quotes, without ports";
        }
      }
      return "";
    }
    case Kind::kPortList: {
      const toml::array* list = node.as_array();
      if (list == nullptr || list->empty()) return "expected a list of ports, e.g. [8001, 8002]";
      for (const toml::node& port : *list) {
        if (!IsPort(port)) return "expected a list of ports (1..65535)";
      }
      return "";
    }
  }
  return "";
}

// The text absl's flag parser takes for a TOML value; arrays become comma-separated lists.
bool FlagText(const toml::node& node, std::string* text) {
  if (auto s = node.value_exact<std::string>()) {
    *text = *s;
  } else if (auto b = node.value_exact<bool>()) {
    *text = *b ? "true" : "false";
  } else if (auto i = node.value_exact<int64_t>()) {
    *text = absl::StrCat(*i);
  } else if (auto d = node.value_exact<double>()) {
    *text = absl::StrCat(*d);
  } else if (const toml::array* list = node.as_array()) {
    std::vector<std::string> parts;
    for (const toml::node& item : *list) {
      std::string part;
      if (item.is_array() || !FlagText(item, &part)) return false;
      parts.push_back(std::move(part));
    }
    *text = absl::StrJoin(parts, ",");
  } else {
    return false;
  }
  return true;
}

absl::Status ApplyTable(const toml::table& table, const std::string& source,
                        const std::string& program) {
  for (auto&& [key, node] : table) {
    const std::string name(key.str());
    if (name == "config_file" || name == "check_config") {
      return Bad(source, key.source(), program, name, "only meaningful on the command line");
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) {
      return Bad(source, key.source(), program, name,
                 absl::StrCat("unknown key: ", program, " has no flag --", name, " (see ", program,
                              " --help)"));
    }
    std::string text;
    if (!FlagText(node, &text)) {
      return Bad(source, node.source(), program, name, "expected a value, not a table");
    }
    std::string error;
    if (!flag->ParseFrom(text, &error)) {
      return Bad(source, node.source(), program, name,
                 absl::StrCat("bad value '", text, "': ", error));
    }
  }
  return absl::OkStatus();
}

// The --config_file value if the command line has one; the file must be applied before
// absl parses the command line, so that the command line wins.
std::string ConfigFileArg(int argc, char* argv[]) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") break;
    for (std::string name : {"--config_file", "-config_file"}) {
      if (arg == name && i + 1 < argc) return argv[i + 1];
      name += "=";
      if (arg.starts_with(name)) return std::string(arg.substr(name.size()));
    }
  }
  const char* env = std::getenv("PENNCLOUD_CONFIG");
  return env != nullptr ? env : "";
}

}  // namespace

absl::Status ApplyText(std::string_view text, const std::string& source,
                       std::string_view program_name) {
  const std::string program(program_name);
  toml::table doc;
  try {
    doc = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return Bad(source, e.source(), "", "", std::string(e.description()));
  }
  for (auto&& [key, node] : doc) {
    const std::string name(key.str());
    const toml::table* table = node.as_table();
    if (table == nullptr) {
      return Bad(source, key.source(), "", name,
                 "keys belong in a table ([cluster], or the binary's own, e.g. [frontend])");
    }
    if (std::find(kTables.begin(), kTables.end(), name) == kTables.end()) {
      return Bad(source, key.source(), name, "",
                 absl::StrCat("unknown table; expected one of ", absl::StrJoin(kTables, ", ")));
    }
    if (name == "cluster") {
      for (auto&& [ckey, cnode] : *table) {
        // A plain name for the key: clang 14 cannot capture a structured binding.
        const std::string_view key_name = ckey.str();
        auto known = std::find_if(kClusterKeys.begin(), kClusterKeys.end(),
                                  [&](const ClusterKey& k) { return key_name == k.name; });
        if (known == kClusterKeys.end()) {
          return Bad(source, ckey.source(), "cluster", std::string(ckey.str()), "unknown key");
        }
        if (std::string why = CheckCluster(known->kind, cnode); !why.empty()) {
          return Bad(source, cnode.source(), "cluster", std::string(ckey.str()), why);
        }
      }
    } else if (name == program || (name == "web" && program == "coordinator")) {
      if (absl::Status s = ApplyTable(*table, source, program); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyFile(const std::string& path, std::string_view program) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot read the config file: ", std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  return ApplyText(text.str(), path, program);
}

std::vector<char*> ParseFlags(int argc, char* argv[], std::string_view program_name,
                              std::string_view usage_text) {
  const std::string program(program_name);
  if (!usage_text.empty()) absl::SetProgramUsageMessage(std::string(usage_text));
  absl::FlagsUsageConfig usage;
  // --help lists the binary's own flags (its *main.cc) and the config flags above.
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "main.cc") || absl::EndsWith(file, "common/config.cc");
  };
  usage.version_string = [program] {
    return absl::StrCat(program, " ", std::string(Version()), "\n");
  };
  absl::SetFlagsUsageConfig(usage);

  const std::string path = ConfigFileArg(argc, argv);
  if (!path.empty()) {
    if (absl::Status s = ApplyFile(path, program); !s.ok()) {
      std::cerr << program << ": bad config: " << s.message() << "\n";
      std::exit(2);
    }
  }
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_check_config)) {
    std::cout << program << ": config " << (path.empty() ? "(none)" : path) << " is good\n";
    std::exit(0);
  }
  return rest;
}

}  // namespace penncloud::config
