// drive_search_bench: issue 20's name search over a 100,000-file drive. A test cluster
// (3-replica KVS group, coordinator, one frontend on free loopback ports) gets one user
// whose drive is filled through the drive library against that real group: nested folders
// (areas / projects / years) of files with office-like names, every one committed by the
// same Upload path the API takes, so the name index is written as in production. Then the
// search the drive page calls (GET /api/files/search through the coordinator, one kept-alive
// connection) is timed for several kinds of query.
//   drive_search_bench --files=100000
// Prints one JSON object. Bounded: --fill_seconds for the fill, --queries per kind.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "drive/drive.h"
#include "kvs/client/connect.h"
#include "nlohmann/json.hpp"
#include "tests/drive/drive_cluster.h"
#include "tests/support/test_pki.h"
#include "tests/web/http_client.h"

ABSL_FLAG(int, files, 100000, "files to put in the drive (at most 1,000,000)");
ABSL_FLAG(int, fill_threads, 16, "uploads in flight while filling");
ABSL_FLAG(int, fill_seconds, 3600, "give up filling after this long");
ABSL_FLAG(int, queries, 200, "timed searches of each kind");

namespace {

using Clock = std::chrono::steady_clock;
using penncloud::testing::DriveCluster;
using penncloud::testing::HttpClient;

constexpr const char* kAreas[] = {"Finance", "Engineering", "Marketing", "Legal", "Personal",
                                  "Sales",   "Research",    "Support",   "HR",    "Photos"};
constexpr const char* kProjects[] = {"Apollo",  "Borealis", "Cedar",    "Delta",  "Everest",
                                     "Fjord",   "Granite",  "Harbor",   "Iris",   "Juniper",
                                     "Kestrel", "Lumen",    "Meridian", "Nimbus", "Orchid",
                                     "Pioneer", "Quartz",   "Redwood",  "Summit", "Tundra"};
constexpr const char* kKinds[] = {"Invoice",  "Report",   "Meeting notes", "Budget",
                                  "Contract", "Résumé",   "Slides",        "Timesheet",
                                  "Receipt",  "Proposal", "Roadmap",       "IMG"};
constexpr const char* kExtensions[] = {".pdf", ".docx", ".xlsx", ".txt", ".jpg", ".pptx"};
constexpr int kYears = 5;  // 2021..2025

// The i-th file: /<area>/<project>/<year>/<kind> <details><ext>. Names repeat words the
// way a real drive does (many invoices, a few projects) and carry one rare number each.
std::string FilePath(int i) {
  const int area = i % 10, project = (i / 10) % 20, year = 2021 + (i / 200) % kYears;
  const char* kind = kKinds[(i / 7) % 12];
  std::string name = std::string(kind) == "IMG"
                         ? absl::StrCat("IMG_", 100000 + i, kExtensions[4])
                         : absl::StrCat(kind, " ", kProjects[project], " Q", 1 + (i / 3) % 4, " ",
                                        year, " n", i, kExtensions[i % 6]);
  return absl::StrCat("/", kAreas[area], "/", kProjects[project], "/", year, "/", name);
}

std::vector<std::string> Folders() {
  std::vector<std::string> out;
  for (const char* area : kAreas) {
    out.push_back(absl::StrCat("/", area));
    for (const char* project : kProjects) {
      out.push_back(absl::StrCat("/", area, "/", project));
      for (int y = 0; y < kYears; ++y) {
        out.push_back(absl::StrCat("/", area, "/", project, "/", 2021 + y));
      }
    }
  }
  return out;
}

struct Stats {
  size_t runs = 0;
  double p50 = 0, p99 = 0, max = 0;
  size_t results = 0;  // of the last run
};

Stats Summarize(std::vector<double> ms, size_t results) {
  Stats s{.runs = ms.size(), .results = results};
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  auto rank = [&](double q) {  // nearest rank
    size_t i = static_cast<size_t>(std::max(1.0, std::ceil(q * ms.size()))) - 1;
    return ms[std::min(i, ms.size() - 1)];
  };
  s.p50 = rank(0.5), s.p99 = rank(0.99), s.max = ms.back();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  using namespace penncloud;
  const int files = std::clamp(absl::GetFlag(FLAGS_files), 1, 1'000'000);
  const int threads = std::clamp(absl::GetFlag(FLAGS_fill_threads), 1, 64);
  const int queries = std::clamp(absl::GetFlag(FLAGS_queries), 1, 10000);
  testing::TestPki::Shared();  // this process's own certificate for the store

  auto cluster = DriveCluster::Start();
  if (!cluster.ok()) {
    std::fprintf(stderr, "cluster: %s\n", cluster.status().ToString().c_str());
    return 1;
  }
  if (auto csrf = (*cluster)->SignUp("bench"); !csrf.ok()) {
    std::fprintf(stderr, "%s\n", csrf.status().ToString().c_str());
    return 1;
  }
  auto store = kvs::Connect((*cluster)->kvs_spec());
  if (!store.ok()) {
    std::fprintf(stderr, "store: %s\n", store.status().ToString().c_str());
    return 1;
  }
  drive::Drive drive(store->get());

  // The fill: folders first (in order, parents before children), then the files.
  const auto fill_start = Clock::now();
  const auto fill_deadline = fill_start + std::chrono::seconds(absl::GetFlag(FLAGS_fill_seconds));
  for (const std::string& folder : Folders()) {
    if (auto s = drive.CreateFolder("bench", folder); !s.ok() && !absl::IsAlreadyExists(s)) {
      std::fprintf(stderr, "folder %s: %s\n", folder.c_str(), s.ToString().c_str());
      return 1;
    }
  }
  std::atomic<int> next{0}, committed{0}, failed{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int i = next++; i < files && Clock::now() < fill_deadline; i = next++) {
        std::string path = FilePath(i);
        auto upload = drive.BeginUpload("bench", path);
        absl::Status s =
            upload.ok() ? (*upload)->Append(absl::StrCat("file ", i, "\n")) : upload.status();
        if (s.ok()) s = (*upload)->Commit().status();
        if (s.ok()) ++committed;
        if (!s.ok() && ++failed <= 5) {
          std::fprintf(stderr, "upload %s: %s\n", path.c_str(), s.ToString().c_str());
        }
      }
    });
  }
  for (std::thread& w : workers) w.join();
  const double fill_s = std::chrono::duration<double>(Clock::now() - fill_start).count();
  const int filled = committed.load();

  // The searches, through the coordinator as the drive page makes them.
  HttpClient http((*cluster)->http_port(), 30000);
  auto login = http.Send("POST", "/api/login", R"({"username":"bench","password":"password1"})");
  if (!login.ok() || login->status != 200) {
    std::fprintf(stderr, "login failed\n");
    return 1;
  }
  // Each kind: a label, and the query of run r.
  struct Kind {
    const char* label;
    std::function<std::string(int)> query;
  };
  const std::vector<Kind> kinds = {
      // One common word: thousands of names start with it.
      {"common word", [](int r) { return std::string(r % 2 ? "invoice" : "report"); }},
      // A word prefix, as typed so far.
      {"prefix", [](int r) { return std::string(r % 2 ? "bud" : "meet"); }},
      // Two words that meet in few names.
      {"two words", [](int r) { return absl::StrCat("budget ", kProjects[r % 20]); }},
      // One file by its rare number.
      {"one file", [files](int r) { return absl::StrCat("n", (r * 7919 + 12) % files); }},
      // "Résumé" in the names, searched without its accents; and a word in no name.
      {"accented", [](int) { return std::string("resume"); }},
      {"no match", [](int r) { return absl::StrCat("zebra", r); }},
  };
  nlohmann::json results = nlohmann::json::object();
  double worst_p99 = 0;
  for (const Kind& kind : kinds) {
    std::vector<double> ms;
    size_t found = 0;
    for (int r = 0; r < queries; ++r) {
      std::string q = kind.query(r);
      std::string target = "/api/files/search?q=";
      for (char c : q) target += c == ' ' ? std::string("%20") : std::string(1, c);
      target += "&limit=200";  // as the drive page asks
      auto t0 = Clock::now();
      auto res = http.Send("GET", target);
      double took = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (!res.ok() || res->status != 200) {
        std::fprintf(stderr, "search %s failed\n", q.c_str());
        return 1;
      }
      ms.push_back(took);
      found = nlohmann::json::parse(res->body)["entries"].size();
    }
    Stats s = Summarize(ms, found);
    worst_p99 = std::max(worst_p99, s.p99);
    results[kind.label] = {{"runs", s.runs},
                           {"p50_ms", std::round(s.p50 * 10) / 10},
                           {"p99_ms", std::round(s.p99 * 10) / 10},
                           {"max_ms", std::round(s.max * 10) / 10},
                           {"results_last_run", s.results}};
  }
  std::string load;
  testing::Shell("cut -d' ' -f1-3 /proc/loadavg", &load);
  load.erase(load.find_last_not_of('\n') + 1);
  nlohmann::json out = {{"files", filled},
                        {"folders", Folders().size()},
                        {"fill_failed", failed.load()},
                        {"fill_seconds", std::round(fill_s)},
                        {"fill_files_per_second", std::round(filled / std::max(fill_s, 1e-3))},
                        {"search", results},
                        {"worst_p99_ms", std::round(worst_p99 * 10) / 10},
                        {"target_p99_ms", 50},
                        {"load_average", load}};
  std::printf("%s\n", out.dump(1).c_str());
  return failed == 0 && filled == files ? 0 : 1;
}
