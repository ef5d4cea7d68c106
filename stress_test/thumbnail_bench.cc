// thumbnail_bench: the time to a thumbnail of a 12-megapixel JPEG, end to end through a test
// cluster's coordinator (3-replica KVS group, coordinator, one frontend spawning the real
// thumbnailer), timed by curl. Each "made" run asks for a size not asked before, so the
// frontend reads the 5 MB file from the store and a fresh thumbnailer decodes it; the
// "cached" runs repeat one size, served from the store. Issue 20's target: made under 300 ms.
//   thumbnail_bench --runs=20
// Prints one JSON object. Bounded: at most --runs of each kind and --max_seconds in all.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "drive/thumbnail_test_util.h"
#include "tests/drive/drive_cluster.h"

ABSL_FLAG(int, runs, 20, "thumbnails of each kind (made, cached), at most 200");
ABSL_FLAG(int, side, 256, "thumbnail size of the first run (later made runs add 1 each)");
ABSL_FLAG(int, max_seconds, 180, "stop the runs after this long");

namespace {

using penncloud::testing::DriveCluster;
using penncloud::testing::Shell;

struct Stats {
  double median = 0, p99 = 0, max = 0;
};

Stats Summarize(std::vector<double> ms) {
  if (ms.empty()) return {};
  std::sort(ms.begin(), ms.end());
  auto rank = [&](double q) {  // nearest rank
    size_t i = static_cast<size_t>(std::max(1.0, std::ceil(q * ms.size()))) - 1;
    return ms[std::min(i, ms.size() - 1)];
  };
  return {rank(0.5), rank(0.99), ms.back()};
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  int runs = std::clamp(absl::GetFlag(FLAGS_runs), 1, 200);
  int side = std::clamp(absl::GetFlag(FLAGS_side), 32, 1024 - runs);
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(absl::GetFlag(FLAGS_max_seconds));
  VIPS_INIT(argv[0]);

  auto cluster = DriveCluster::Start();
  if (!cluster.ok()) {
    std::fprintf(stderr, "cluster: %s\n", cluster.status().ToString().c_str());
    return 1;
  }
  auto csrf = (*cluster)->SignUp("bench");
  if (!csrf.ok()) {
    std::fprintf(stderr, "%s\n", csrf.status().ToString().c_str());
    return 1;
  }
  std::string dir = (*cluster)->dir();
  std::string photo =
      penncloud::drive::testing::TestImage(penncloud::drive::ImageFormat::kJpeg, 4000, 3000);
  std::ofstream(dir + "/photo.jpg", std::ios::binary) << photo;
  std::string base = absl::StrCat("curl -s --max-time 30 -b '", dir, "/bench.jar' ");
  std::string code;
  Shell(absl::StrCat(base, "-o /dev/null -w '%{http_code}' -H 'X-CSRF-Token: ", *csrf, "' -T '",
                     dir, "/photo.jpg' 'http://127.0.0.1:", (*cluster)->http_port(),
                     "/api/files/content?path=/photo.jpg'"),
        &code);
  if (code != "201") {
    std::fprintf(stderr, "upload answered %s\n", code.c_str());
    return 1;
  }

  // One request; its time in ms, or -1 if it did not answer 200 with a JPEG.
  auto timed = [&](int size) {
    std::string out;
    Shell(absl::StrCat(base, "-o '", dir, "/thumb.jpg' -w '%{http_code} %{time_total}' ",
                       "'http://127.0.0.1:", (*cluster)->http_port(),
                       "/api/files/thumbnail?path=/photo.jpg&size=", size, "'"),
          &out);
    int status = 0;
    double seconds = 0;
    if (std::sscanf(out.c_str(), "%d %lf", &status, &seconds) != 2 || status != 200) return -1.0;
    return seconds * 1000;
  };
  std::vector<double> made, cached;
  int failed = 0;
  for (int i = 0; i < runs && std::chrono::steady_clock::now() < deadline; ++i) {
    double ms = timed(side + i);
    ms < 0 ? ++failed : (made.push_back(ms), 0);
  }
  for (int i = 0; i < runs && std::chrono::steady_clock::now() < deadline; ++i) {
    double ms = timed(side);
    ms < 0 ? ++failed : (cached.push_back(ms), 0);
  }
  std::ifstream thumb(dir + "/thumb.jpg", std::ios::binary);
  std::string last((std::istreambuf_iterator<char>(thumb)), {});
  auto [w, h] = penncloud::drive::testing::ImageSize(last);
  Stats m = Summarize(made), c = Summarize(cached);
  std::string load;
  Shell("cut -d' ' -f1-3 /proc/loadavg", &load);
  load.erase(load.find_last_not_of('\n') + 1);
  std::printf(
      "{\"image\":\"4000x3000 JPEG, %zu bytes\",\"last_thumbnail\":\"%dx%d\",\"failed\":%d,\n"
      " \"made\":{\"runs\":%zu,\"median_ms\":%.1f,\"p99_ms\":%.1f,\"max_ms\":%.1f},\n"
      " \"cached\":{\"runs\":%zu,\"median_ms\":%.1f,\"p99_ms\":%.1f,\"max_ms\":%.1f},\n"
      " \"target_made_ms\":300,\"load_average\":\"%s\"}\n",
      photo.size(), w, h, failed, made.size(), m.median, m.p99, m.max, cached.size(), c.median,
      c.p99, c.max, load.c_str());
  return failed == 0 ? 0 : 1;
}
