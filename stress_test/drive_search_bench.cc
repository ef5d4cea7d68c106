// drive_search_bench: issue 20's name search over a 100,000-file drive. A test cluster
// (3-replica KVS group, coordinator, one frontend on free loopback ports) gets one user whose
// drive is filled straight through the store by many writers: nested folders (areas /
// projects / years, made by Drive::CreateFolder) of files with office-like names, each file
// written as an upload's commit leaves it (its chunk, its entry in its folder) and indexed by
// drive::WriteNameIndex, the function every upload's commit calls, so the name index is the
// one production would hold. Then the search the drive page calls (GET /api/files/search, one
// kept-alive connection) is timed for several kinds of query against a frontend of this build
// and, with --compare_frontend, against another build's frontend, alternated round by round
// (A B A B) on the same store.
//   drive_search_bench --files=100000 --compare_frontend=build/old/bin/frontend
// With --state_dir the filled store is kept there, and a later run with --fill=false searches
// it again (a quiet run then needs no fill of a quarter of an hour first).
// Prints one JSON object. Bounded: --fill_seconds for the fill, --queries per kind and round.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "drive/content_type.h"
#include "drive/drive.h"
#include "drive/entry.h"
#include "drive/keys.h"
#include "kvs/client/connect.h"
#include "nlohmann/json.hpp"
#include "proto/drive.pb.h"
#include "tests/drive/drive_cluster.h"
#include "tests/support/process.h"
#include "tests/support/test_pki.h"
#include "tests/web/http_client.h"

ABSL_FLAG(int, files, 100000, "files to put in the drive (at most 1,000,000)");
ABSL_FLAG(int, fill_threads, 128, "writers filling the drive at once");
ABSL_FLAG(int, fill_seconds, 3600, "give up filling after this long");
ABSL_FLAG(int, queries, 200, "timed searches of each kind, per frontend and round");
ABSL_FLAG(int, rounds, 2, "rounds of searches; each round asks every frontend in turn");
ABSL_FLAG(std::string, compare_frontend, "",
          "another build's frontend binary, searched in turn with this build's (A B A B)");
ABSL_FLAG(std::string, state_dir, "",
          "keep the store's replicas here (and what the fill made, in drive.json) instead of in "
          "a temporary folder");
ABSL_FLAG(bool, fill, true,
          "fill the drive; false searches the drive a run with the same --state_dir filled");

namespace {

using Clock = std::chrono::steady_clock;
using penncloud::testing::DriveCluster;
using penncloud::testing::HttpClient;

constexpr char kUser[] = "bench";
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
constexpr int kAreaCount = 10, kProjectCount = 20, kYears = 5;  // years 2021..2025

// The i-th file lies in folder YearFolder(i): /<area>/<project>/<year>.
int YearFolder(int i) {
  const int area = i % kAreaCount, project = (i / 10) % kProjectCount, year = (i / 200) % kYears;
  return (area * kProjectCount + project) * kYears + year;
}

std::string YearFolderPath(int folder) {
  return absl::StrCat("/", kAreas[folder / (kProjectCount * kYears)], "/",
                      kProjects[folder / kYears % kProjectCount], "/", 2021 + folder % kYears);
}

// The i-th file's name. Names repeat words the way a real drive does (many invoices, a few
// projects) and carry one rare number each.
std::string FileName(int i) {
  const char* kind = kKinds[(i / 7) % 12];
  if (std::string(kind) == "IMG") return absl::StrCat("IMG_", 100000 + i, kExtensions[4]);
  return absl::StrCat(kind, " ", kProjects[(i / 10) % kProjectCount], " Q", 1 + (i / 3) % 4, " ",
                      2021 + (i / 200) % kYears, " n", i, kExtensions[i % 6]);
}

// Runs body(i) for each i in [0, n) on `threads` threads, handing out no more work after
// `deadline`; returns how many calls returned true.
int ParallelFor(int n, int threads, Clock::time_point deadline,
                const std::function<bool(int)>& body) {
  std::atomic<int> next{0}, done{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int i = next++; i < n && Clock::now() < deadline; i = next++) {
        if (body(i)) ++done;
      }
    });
  }
  for (std::thread& w : workers) w.join();
  return done.load();
}

// Makes the 1,210 folders with Drive::CreateFolder, a level at a time (parents first), and
// returns the folder ids of the year folders, by YearFolder number.
absl::StatusOr<std::vector<std::string>> MakeFolders(penncloud::drive::Drive& drive, int threads) {
  const auto no_deadline = Clock::time_point::max();
  std::atomic<int> failed{0};
  auto create = [&](const std::string& path) {
    absl::Status s = drive.CreateFolder(kUser, path);
    if (s.ok() || absl::IsAlreadyExists(s)) return true;
    if (++failed <= 5) std::fprintf(stderr, "folder %s: %s\n", path.c_str(), s.ToString().c_str());
    return false;
  };
  ParallelFor(kAreaCount, threads, no_deadline,
              [&](int a) { return create(absl::StrCat("/", kAreas[a])); });
  ParallelFor(kAreaCount * kProjectCount, threads, no_deadline, [&](int p) {
    return create(absl::StrCat("/", kAreas[p / kProjectCount], "/", kProjects[p % kProjectCount]));
  });
  const int year_folders = kAreaCount * kProjectCount * kYears;
  ParallelFor(year_folders, threads, no_deadline, [&](int f) { return create(YearFolderPath(f)); });
  std::vector<std::string> ids(year_folders);
  ParallelFor(year_folders, threads, no_deadline, [&](int f) {
    auto info = drive.Stat(kUser, YearFolderPath(f));
    if (info.ok()) ids[f] = info->id;
    return info.ok();
  });
  if (failed > 0 || std::count(ids.begin(), ids.end(), "") > 0) {
    return absl::InternalError("the folders could not all be made");
  }
  return ids;
}

// Writes file i as an upload's commit leaves a new small file: its one chunk, then its name
// index cells (drive::WriteNameIndex, what the commit calls before it puts the entry; it logs
// "drive.index_failed" for a cell the store did not take), then its entry in its folder.
// Returns its size, or 0 if its chunk or entry could not be written.
size_t FillFile(penncloud::kvs::Client* store, const std::vector<std::string>& folder_ids, int i) {
  using namespace penncloud::drive;
  const std::string content = absl::StrCat("file ", i, "\n"), name = FileName(i);
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  pb::Entry entry;
  entry.set_kind(pb::Entry::FILE);
  entry.set_version(absl::StrFormat("%032x", i));
  entry.set_size(content.size());
  entry.set_chunk_bytes(Options{}.chunk_bytes);
  entry.set_content_type(GuessContentType(name));
  entry.set_created_ms(now);
  entry.set_modified_ms(now);
  entry.set_file_id(absl::StrFormat("f%031x", i));
  absl::Status s =
      store->Put(keys::ChunkRow(kUser, entry.version(), 0), keys::kChunkColumn, content);
  if (s.ok()) {
    WriteNameIndex(store, kUser, absl::StrCat(YearFolderPath(YearFolder(i)), "/", name), entry,
                   now);
    s = store->Put(keys::TreeRow(kUser, folder_ids[YearFolder(i)]), name, SerializeEntry(entry));
  }
  if (!s.ok()) {
    std::fprintf(stderr, "file %d: %s\n", i, s.ToString().c_str());
    return 0;
  }
  return content.size();
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

double Tenths(double ms) { return std::round(ms * 10) / 10; }

std::string LoadAverage() {
  std::string load;
  penncloud::testing::Shell("cut -d' ' -f1-3 /proc/loadavg", &load);
  load.erase(load.find_last_not_of('\n') + 1);
  return load;
}

// A frontend that only answers the timed searches, on the cluster's store, signed in as the
// bench user. It heartbeats to a port nobody listens on, so the coordinator never routes to it.
struct SearchFrontend {
  std::string binary;
  penncloud::testing::Process process;
  std::unique_ptr<HttpClient> http;
  std::map<std::string, std::vector<double>> ms;  // per kind of query, all rounds
  std::map<std::string, size_t> results;          // per kind, of the last run
};

absl::Status Start(SearchFrontend& fe, const DriveCluster& cluster) {
  using namespace penncloud::testing;
  const int port = FreePort();
  auto process =
      Process::Start(fe.binary,
                     {absl::StrCat("--port=", port), absl::StrCat("--kvs=", cluster.kvs_spec()),
                      absl::StrCat("--coordinator=127.0.0.1:", FreePort()),
                      "--web_root=" + SourcePath("web"), "--io_threads=1", "--workers=16"},
                     absl::StrCat(cluster.dir(), "/search-frontend-", port, ".log"));
  if (!process.ok()) return process.status();
  fe.process = std::move(*process);
  if (!WaitForPort(port)) return absl::UnavailableError(fe.binary + " did not start");
  fe.http = std::make_unique<HttpClient>(port, 30000);
  auto login =
      fe.http->Send("POST", "/api/login",
                    absl::StrCat(R"({"username":")", kUser, R"(","password":"password1"})"));
  if (!login.ok() || login->status != 200) return absl::UnavailableError("login failed");
  return absl::OkStatus();
}

// A kind of query: a label, and the query of run r.
struct Kind {
  const char* label;
  std::function<std::string(int)> query;
};

// One round of `queries` searches of each kind; returns the worst p99 of the round.
absl::StatusOr<double> SearchRound(SearchFrontend& fe, const std::vector<Kind>& kinds,
                                   int queries) {
  double worst_p99 = 0;
  for (const Kind& kind : kinds) {
    std::vector<double> round_ms;
    for (int r = 0; r < queries; ++r) {
      std::string q = kind.query(r);
      std::string target = "/api/files/search?q=";
      for (char c : q) target += c == ' ' ? std::string("%20") : std::string(1, c);
      target += "&limit=200";  // as the drive page asks
      auto t0 = Clock::now();
      auto res = fe.http->Send("GET", target);
      double took = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (!res.ok() || res->status != 200) return absl::InternalError("search failed: " + q);
      round_ms.push_back(took);
      fe.results[kind.label] = nlohmann::json::parse(res->body)["entries"].size();
    }
    worst_p99 = std::max(worst_p99, Summarize(round_ms, 0).p99);
    auto& all = fe.ms[kind.label];
    all.insert(all.end(), round_ms.begin(), round_ms.end());
  }
  return worst_p99;
}

// Signs the bench user up and fills its drive; returns the fill's figures (its "files" are
// the files written whole).
absl::StatusOr<nlohmann::json> Fill(DriveCluster& cluster, int files, int threads) {
  using namespace penncloud;
  if (auto csrf = cluster.SignUp(kUser); !csrf.ok()) return csrf.status();
  auto store = kvs::Connect(cluster.kvs_spec());
  if (!store.ok()) return store.status();
  drive::Drive drive(store->get());

  const auto fill_start = Clock::now();
  auto folder_ids = MakeFolders(drive, threads);
  if (!folder_ids.ok()) return folder_ids.status();
  std::atomic<uint64_t> bytes{0};
  const int filled =
      ParallelFor(files, threads,
                  fill_start + std::chrono::seconds(absl::GetFlag(FLAGS_fill_seconds)), [&](int i) {
                    size_t size = FillFile(store->get(), *folder_ids, i);
                    bytes += size;
                    return size > 0;
                  });
  // The usage counter, as the uploads' commits would have left it.
  if (auto s = (*store)->Put(drive::keys::StateRow(kUser), drive::keys::kUsedColumn,
                             std::to_string(bytes.load()));
      !s.ok()) {
    return s;
  }
  const double fill_s = std::chrono::duration<double>(Clock::now() - fill_start).count();
  return nlohmann::json{{"files", filled},
                        {"asked", files},
                        {"seconds", std::round(fill_s)},
                        {"files_per_second", std::round(filled / std::max(fill_s, 1e-3))},
                        {"writers", threads},
                        {"load_average_after", LoadAverage()}};
}

// What a later run needs to search a kept store again: the replicas' client ports (the store
// is started on them again) and how many files the fill made.
struct KeptStore {
  std::vector<int> ports;
  int files = 0;
};

std::string KeptStorePath(const std::string& state_dir) { return state_dir + "/drive.json"; }

absl::StatusOr<KeptStore> ReadKeptStore(const std::string& state_dir) {
  std::ifstream in(KeptStorePath(state_dir));
  nlohmann::json record = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!record.is_object() || !record["ports"].is_array() || !record["files"].is_number()) {
    return absl::NotFoundError(
        absl::StrCat("no filled store in ", state_dir, " (fill one with --fill first)"));
  }
  return KeptStore{.ports = record["ports"].get<std::vector<int>>(),
                   .files = record["files"].get<int>()};
}

absl::Status WriteKeptStore(const std::string& state_dir, const KeptStore& kept) {
  std::ofstream out(KeptStorePath(state_dir));
  out << nlohmann::json{{"ports", kept.ports}, {"files", kept.files}}.dump() << "\n";
  out.close();
  if (!out) return absl::InternalError("cannot write " + KeptStorePath(state_dir));
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  using namespace penncloud;
  const int files = std::clamp(absl::GetFlag(FLAGS_files), 1, 1'000'000);
  const int threads = std::clamp(absl::GetFlag(FLAGS_fill_threads), 1, 512);
  const int queries = std::clamp(absl::GetFlag(FLAGS_queries), 1, 10000);
  const int rounds = std::clamp(absl::GetFlag(FLAGS_rounds), 1, 100);
  testing::TestPki::Shared();  // this process's own certificate for the store

  const std::string state_dir = absl::GetFlag(FLAGS_state_dir);
  const bool fill = absl::GetFlag(FLAGS_fill);
  testing::KvsGroupOptions kvs_options;
  KeptStore kept;
  if (!state_dir.empty()) {
    auto found = ReadKeptStore(state_dir);
    if (fill && found.ok()) {
      std::fprintf(stderr, "%s already holds a filled drive: search it with --fill=false\n",
                   state_dir.c_str());
      return 1;
    }
    if (!fill && !found.ok()) {
      std::fprintf(stderr, "%s\n", found.status().ToString().c_str());
      return 1;
    }
    if (found.ok()) kept = *found;
    if (kept.ports.empty()) {
      for (int i = 0; i < kvs_options.replicas; ++i) kept.ports.push_back(testing::FreePort());
    }
    kvs_options.data_dir = std::filesystem::absolute(state_dir);
    kvs_options.ports = kept.ports;
  } else if (!fill) {
    std::fprintf(stderr, "--fill=false searches a kept store: name it with --state_dir\n");
    return 1;
  }

  auto cluster = DriveCluster::Start({}, kvs_options);
  if (!cluster.ok()) {
    std::fprintf(stderr, "cluster: %s\n", cluster.status().ToString().c_str());
    return 1;
  }
  nlohmann::json fill_report = {{"files", kept.files}, {"filled_in_an_earlier_run", true}};
  if (fill) {
    auto filled = Fill(**cluster, files, threads);
    if (!filled.ok()) {
      std::fprintf(stderr, "%s\n", filled.status().ToString().c_str());
      return 1;
    }
    fill_report = *filled;
    kept.files = fill_report["files"].get<int>();
    if (!state_dir.empty()) {
      if (auto s = WriteKeptStore(state_dir, kept); !s.ok()) {
        std::fprintf(stderr, "%s\n", s.ToString().c_str());
        return 1;
      }
    }
  }
  const int searched_files = std::max(kept.files, 1);

  std::vector<SearchFrontend> frontends;
  if (std::string other = absl::GetFlag(FLAGS_compare_frontend); !other.empty()) {
    frontends.emplace_back().binary = other;
  }
  frontends.emplace_back().binary = testing::BinaryPath("frontend");
  for (SearchFrontend& fe : frontends) {
    if (auto s = Start(fe, **cluster); !s.ok()) {
      std::fprintf(stderr, "%s: %s\n", fe.binary.c_str(), s.ToString().c_str());
      return 1;
    }
  }
  const std::string load_before_searches = LoadAverage();
  const std::vector<Kind> kinds = {
      // One common word: thousands of names start with it.
      {"common word", [](int r) { return std::string(r % 2 ? "invoice" : "report"); }},
      // A word prefix, as typed so far.
      {"prefix", [](int r) { return std::string(r % 2 ? "bud" : "meet"); }},
      // Two common words that meet in few names.
      {"two words", [](int r) { return absl::StrCat("budget ", kProjects[r % 20]); }},
      // One file by its rare number.
      {"one file",
       [searched_files](int r) { return absl::StrCat("n", (r * 7919 + 12) % searched_files); }},
      // "Résumé" in the names, searched without its accents; and a word in no name.
      {"accented", [](int) { return std::string("resume"); }},
      {"no match", [](int r) { return absl::StrCat("zebra", r); }},
  };
  nlohmann::json round_log = nlohmann::json::array();
  for (int round = 1; round <= rounds; ++round) {
    for (SearchFrontend& fe : frontends) {
      auto worst = SearchRound(fe, kinds, queries);
      if (!worst.ok()) {
        std::fprintf(stderr, "%s: %s\n", fe.binary.c_str(), worst.status().ToString().c_str());
        return 1;
      }
      round_log.push_back({{"round", round},
                           {"frontend", fe.binary},
                           {"worst_p99_ms", Tenths(*worst)},
                           {"load_average", LoadAverage()}});
    }
  }
  nlohmann::json by_frontend = nlohmann::json::array();
  double worst_p99 = 0;  // of this build's frontend, the last
  for (const SearchFrontend& fe : frontends) {
    worst_p99 = 0;
    nlohmann::json search = nlohmann::json::object();
    for (const Kind& kind : kinds) {
      Stats s = Summarize(fe.ms.at(kind.label), fe.results.at(kind.label));
      worst_p99 = std::max(worst_p99, s.p99);
      search[kind.label] = {{"runs", s.runs},
                            {"p50_ms", Tenths(s.p50)},
                            {"p99_ms", Tenths(s.p99)},
                            {"max_ms", Tenths(s.max)},
                            {"results_last_run", s.results}};
    }
    by_frontend.push_back({{"frontend", fe.binary}, {"search", search}});
  }
  nlohmann::json out = {{"files", kept.files},
                        {"folders", kAreaCount * (1 + kProjectCount * (1 + kYears))},
                        {"fill", fill_report},
                        {"load_average_before_searches", load_before_searches},
                        {"frontends", by_frontend},
                        {"rounds", round_log},
                        {"worst_p99_ms_this_build", Tenths(worst_p99)},
                        {"target_p99_ms", 50}};
  std::printf("%s\n", out.dump(1).c_str());
  return !fill || kept.files == files ? 0 : 1;
}
