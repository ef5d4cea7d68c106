#include "stress_test/user_sim/simulation.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "stress_test/user_sim/http_session.h"

namespace penncloud::sim {
namespace {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Account {
  std::string name;
  std::string cookie;
  std::string csrf;
};

// What a user had acknowledged, for the end-of-run verification.
struct AckedMail {
  int recipient;  // account index
  std::string subject;
};
struct AckedFile {
  int user;
  int account;
  int64_t acked_seq;      // the last upload answered 2xx
  int64_t attempted_seq;  // the last upload sent (an unanswered one may still have landed)
};

// One I/O thread: its io_context, the records and acknowledgements of the users it runs.
struct Lane {
  net::io_context io;  // users are spawned onto it from the ramp thread: keep its locking
  Recorder recorder;
  std::vector<AckedMail> mails;
  std::vector<AckedFile> files;
  std::mt19937_64 rng;
};

std::string FileContent(int user, int64_t seq, int bytes) {
  std::string s = absl::StrCat("u", user, " s", seq, "\n");
  char fill = static_cast<char>('a' + (user * 31 + seq) % 26);
  if (static_cast<int>(s.size()) < bytes) s.append(bytes - s.size(), fill);
  return s;
}

std::string FilePath(int user) { return "/sim-u" + std::to_string(user) + ".txt"; }

bool Retryable(const HttpResult& r) {
  return r.status == 0 || r.status == 502 || r.status == 503 || r.status == 504;
}

constexpr int kRampLevel = 255;  // the level recorded while users are still arriving

// Between this client's clock and the servers' (one machine, or hosts under NTP).
constexpr std::chrono::milliseconds kClockMargin{100};

class Simulation {
 public:
  explicit Simulation(const SimOptions& o) : o_(o) {
    for (const Target& t : o.targets) {
      targets_.emplace_back(net::ip::make_address(t.host), static_cast<uint16_t>(t.port));
    }
    int n = o.threads > 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());
    for (int i = 0; i < n; ++i) {
      lanes_.push_back(std::make_unique<Lane>());
      lanes_.back()->rng.seed(0x5eed + i);
    }
    accounts_.resize(o.accounts);
    for (int i = 0; i < o.accounts; ++i) accounts_[i].name = o.prefix + std::to_string(i);
  }

  SimResult Run() {
    SimResult result;
    start_ = Clock::now();
    RunPhase([this](int lane) -> net::awaitable<void> { co_await SetUpAccounts(lane); });
    result.first_error = first_error_;
    if (setup_failed_) {
      result.setup_error = setup_error_;
      result.records = Merge(Recorders());
      return result;
    }
    RunLoad(&result.levels);
    if (o_.verify) {
      RunPhase([this](int lane) -> net::awaitable<void> { co_await Verify(lane); });
      result.verify = verify_;
      result.verify.ran = true;
    }
    result.first_error = first_error_;
    result.records = Merge(Recorders());
    return result;
  }

 private:
  int64_t NowUs() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start_).count();
  }

  std::vector<Recorder> Recorders() const {
    std::vector<Recorder> r;
    for (const auto& lane : lanes_) r.push_back(lane->recorder);
    return r;
  }

  // Runs `body(lane)` on every lane's thread and waits until all of them are done.
  template <typename Body>
  void RunPhase(Body body) {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < lanes_.size(); ++i) {
      Lane& lane = *lanes_[i];
      lane.io.restart();
      net::co_spawn(lane.io, body(static_cast<int>(i)), net::detached);
      threads.emplace_back([&lane] { lane.io.run(); });
    }
    for (auto& t : threads) t.join();
  }

  net::awaitable<void> Sleep(Clock::duration d) {
    net::steady_timer timer(co_await net::this_coro::executor);
    timer.expires_after(d);
    boost::system::error_code ec;
    co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
  }

  Clock::duration Think(Lane& lane, std::chrono::milliseconds mean) {
    if (mean.count() <= 0) return Clock::duration::zero();
    std::exponential_distribution<double> d(1.0 / static_cast<double>(mean.count()));
    return std::chrono::microseconds(static_cast<int64_t>(d(lane.rng) * 1000));
  }

  // One request with its retries, recorded. Arguments of co_awaited calls are named
  // locals passed by reference: GCC 12 may destroy temporaries in a co_await twice.
  struct Step {
    Op op;
    std::string method;
    std::string target;
    std::string body;
    int retries = 0;
    int64_t scheduled_us = -1;  // open loop: when it was due
    int also_ok = 0;            // a non-2xx status that is an expected answer (signup's 409)
  };
  net::awaitable<HttpResult> Call(Lane& lane, HttpSession& http, int user, const Step& step) {
    const Op op = step.op;
    const int retries = step.retries;
    Record rec{};
    rec.start_us = step.scheduled_us >= 0 ? step.scheduled_us : NowUs();
    rec.user = user;
    rec.op = op;
    rec.level = static_cast<uint8_t>(level_.load(std::memory_order_relaxed));
    HttpResult res;
    const bool changes_data = step.method != "GET" && step.method != "HEAD";
    for (int attempt = 0;; ++attempt) {
      const Clock::time_point attempt_ends = Clock::now() + o_.timeout;
      res = co_await http.Send(step.method, step.target, step.body, o_.timeout);
      rec.attempts = static_cast<uint8_t>(attempt + 1);
      if (!Retryable(res) || attempt >= retries || stop_.load()) break;
      Clock::duration wait = std::chrono::milliseconds(std::min(2000, 100 << std::min(attempt, 5)));
      // A write whose outcome is unknown may still be applied until its deadline
      // (common/write_deadline.h), and would then land over what we write next: the
      // multi-host test's rolling upgrade saw a draining frontend commit an upload's first
      // attempt after its retry had gone through the other coordinator and a newer upload
      // had been acknowledged. So a write is retried only once its last attempt is dead.
      if (changes_data) wait = std::max(wait, attempt_ends - Clock::now() + kClockMargin);
      co_await Sleep(wait);
    }
    rec.status = static_cast<int16_t>(res.status);
    rec.latency_us = static_cast<int32_t>(std::min<int64_t>(NowUs() - rec.start_us, INT32_MAX));
    if ((res.status >= 200 && res.status < 300) || res.status == step.also_ok) {
      rec.outcome = Outcome::kOk;
    } else if (res.status == 503) {
      rec.outcome = Outcome::kBusy;
    } else if (res.status != 0) {
      rec.outcome = Outcome::kHttpError;
    } else {
      rec.outcome = res.error == "timeout" ? Outcome::kTimeout : Outcome::kTransport;
    }
    if (rec.outcome != Outcome::kOk) {
      std::lock_guard lock(mu_);
      if (first_error_.empty()) {
        first_error_ = std::string(OpName(op)) + " " + std::to_string(res.status) + " " +
                       (res.error.empty() ? res.body.substr(0, 200) : res.error);
      }
    }
    lane.recorder.Add(rec);
    co_return res;
  }

  static json LoginBody(const std::string& user, const std::string& password) {
    return json{{"username", user}, {"password", password}};
  }

  // Signs up (or, when the name exists, logs in) and keeps the session in `http`.
  net::awaitable<bool> SignIn(Lane& lane, HttpSession& http, int user, const Account& a,
                              bool signup_first) {
    std::string body = LoginBody(a.name, o_.password).dump();
    HttpResult r;
    if (signup_first) {
      const Step signup{Op::kSignup, "POST", "/api/signup", body, 3, -1, 409};
      r = co_await Call(lane, http, user, signup);
    }
    if (!signup_first || r.status == 409) {
      const Step login{Op::kLogin, "POST", "/api/login", body, 3};
      r = co_await Call(lane, http, user, login);
    }
    if (r.status != 200 && r.status != 201) {
      setup_failed_ = true;
      std::lock_guard lock(mu_);
      if (setup_error_.empty()) {
        setup_error_ = "sign-in of " + a.name + ": " + std::to_string(r.status) + " " +
                       (r.error.empty() ? r.body : r.error);
      }
      co_return false;
    }
    auto j = json::parse(r.body, nullptr, false);
    std::string csrf = j.is_object() && j.contains("csrf") ? j["csrf"].get<std::string>() : "";
    http.set_session(r.session_cookie, csrf);
    co_return !r.session_cookie.empty();
  }

  net::awaitable<void> SetUpAccounts(int lane_index) {
    Lane& lane = *lanes_[lane_index];
    for (size_t i = lane_index; i < accounts_.size(); i += lanes_.size()) {
      if (setup_failed_) co_return;
      HttpSession fresh(co_await net::this_coro::executor, targets_, i);
      if (!co_await SignIn(lane, fresh, -1, accounts_[i], true)) co_return;
      accounts_[i].cookie = fresh.cookie();
      accounts_[i].csrf = fresh.csrf();
    }
  }

  bool Done(int user) {
    return stop_.load(std::memory_order_relaxed) ||
           user >= active_users_.load(std::memory_order_relaxed);
  }

  // Counts a request against the run's budget; false once it is spent.
  bool Budget() {
    if (issued_.fetch_add(1, std::memory_order_relaxed) < o_.max_requests) return true;
    stop_ = true;
    return false;
  }

  bool Visits(Op op) const {
    return std::find(o_.steps.begin(), o_.steps.end(), op) != o_.steps.end();
  }

  // A user that must make a step's input itself before its visit (see simulation.h).
  bool NeedsPreparation() const {
    return (Visits(Op::kReadMail) && !Visits(Op::kListInbox)) ||
           (Visits(Op::kDownload) && !Visits(Op::kUpload));
  }

  // The mean pause between one user's steps.
  std::chrono::milliseconds ThinkMean() const {
    if (o_.rate <= 0) return o_.think;
    return std::chrono::milliseconds(static_cast<int64_t>(1000.0 * active_users_ / o_.rate));
  }

  // Lists the inbox's newest page into `inbox` (cleared first).
  net::awaitable<void> ListInbox(Lane& lane, HttpSession& http, int user, int64_t due,
                                 std::vector<std::string>& inbox) {
    const Step list{Op::kListInbox, "GET", "/api/mail?folder=inbox&limit=20", "", o_.retries, due};
    auto res = co_await Call(lane, http, user, list);
    inbox.clear();
    auto j = json::parse(res.body, nullptr, false);
    if (res.status == 200 && j.is_object() && j["messages"].is_array()) {
      for (const auto& m : j["messages"]) {
        inbox.push_back(m["id"].is_string() ? m["id"].get<std::string>() : m["id"].dump());
      }
    }
  }

  // Uploads the user's file as version `seq`; whether it was acknowledged.
  net::awaitable<bool> Upload(Lane& lane, HttpSession& http, int user, int64_t seq, int64_t due,
                              const std::string& path) {
    const Step upload{Op::kUpload,
                      "PUT",
                      "/api/files/content?path=" + path,
                      FileContent(user, seq, o_.file_bytes),
                      o_.retries,
                      due};
    auto res = co_await Call(lane, http, user, upload);
    co_return res.status / 100 == 2;
  }

  net::awaitable<void> RunUser(int lane_index, int user, bool prepares) {
    Lane& lane = *lanes_[lane_index];
    const int acct = user % o_.accounts;
    const int peer = (acct + 1) % o_.accounts;
    HttpSession http(co_await net::this_coro::executor, targets_, user);
    const auto think = ThinkMean();
    // Stagger the first steps over one think time so the users do not arrive in lockstep.
    std::uniform_int_distribution<int64_t> stagger(0, std::max<int64_t>(think.count(), 1) * 1000);
    int64_t next_us = NowUs() + stagger(lane.rng);
    const auto first_wait = std::chrono::microseconds(next_us - NowUs());
    co_await Sleep(first_wait);

    if (o_.login_per_user) {
      if (!co_await SignIn(lane, http, user, accounts_[acct], false)) {
        if (prepares) --preparing_;
        --live_users_;
        co_return;
      }
    } else {
      http.set_session(accounts_[acct].cookie, accounts_[acct].csrf);
    }

    const bool open = o_.open_loop || o_.rate > 0;
    int64_t seq = 0, acked_seq = -1, attempted_seq = -1;
    std::vector<std::string> inbox;
    const std::string path = UrlEncode(FilePath(user));
    if (prepares) {
      if (Visits(Op::kReadMail) && !Visits(Op::kListInbox)) {
        co_await ListInbox(lane, http, user, -1, inbox);
      }
      if (Visits(Op::kDownload) && !Visits(Op::kUpload)) {
        attempted_seq = ++seq;
        if (co_await Upload(lane, http, user, seq, -1, path)) acked_seq = seq;
      }
      --preparing_;
      next_us = std::max(next_us, NowUs());
    }
    // Waits the think time (closed loop) or until the next scheduled step (open loop); gives
    // the scheduled time to record, or -1.
    auto pause = [&]() -> net::awaitable<int64_t> {
      auto t = std::chrono::duration_cast<std::chrono::microseconds>(Think(lane, think)).count();
      if (!open) {
        const auto wait = std::chrono::microseconds(t);
        co_await Sleep(wait);
        co_return -1;
      }
      next_us += t;
      int64_t now = NowUs();
      const auto wait = std::chrono::microseconds(next_us - now);
      if (next_us > now) co_await Sleep(wait);
      co_return next_us;
    };
    int64_t due = open ? next_us : -1;
    const int r = o_.retries;
    for (size_t step = 0; !Done(user) && Budget(); ++step) {
      bool ran = true;  // false: the step had nothing to work on yet
      switch (o_.steps[step % o_.steps.size()]) {
        case Op::kListInbox:
          co_await ListInbox(lane, http, user, due, inbox);
          break;
        case Op::kReadMail: {
          if (inbox.empty()) {
            ran = false;
            break;
          }
          std::uniform_int_distribution<size_t> pick(0, inbox.size() - 1);
          const Step read{
              Op::kReadMail, "GET", "/api/mail/" + UrlEncode(inbox[pick(lane.rng)]), "", r, due};
          co_await Call(lane, http, user, read);
          break;
        }
        case Op::kSendMail: {
          std::string subject = "sim u" + std::to_string(user) + " s" + std::to_string(seq);
          json body = {{"to", {accounts_[peer].name + "@" + o_.domain}},
                       {"cc", json::array()},
                       {"subject", subject},
                       {"body", "Hello from simulated user " + std::to_string(user) + ".\n"}};
          const Step send{Op::kSendMail, "POST", "/api/mail", body.dump(), r, due};
          auto res = co_await Call(lane, http, user, send);
          if (res.status / 100 == 2 && o_.verify) lane.mails.push_back({peer, subject});
          break;
        }
        case Op::kListDrive: {
          const Step list{Op::kListDrive, "GET", "/api/files?path=%2F", "", r, due};
          co_await Call(lane, http, user, list);
          break;
        }
        case Op::kUpload:
          attempted_seq = ++seq;
          if (co_await Upload(lane, http, user, seq, due, path)) acked_seq = seq;
          break;
        case Op::kDownload: {
          if (acked_seq < 0) {
            ran = false;
            break;
          }
          const Step download{Op::kDownload, "GET", "/api/files/content?path=" + path, "", r, due};
          auto res = co_await Call(lane, http, user, download);
          // Only this user writes its file, so a good answer holds the last upload that was
          // sent (acknowledged, or sent after it and possibly applied).
          if (res.status == 200 && res.body != FileContent(user, acked_seq, o_.file_bytes) &&
              res.body != FileContent(user, attempted_seq, o_.file_bytes)) {
            lane.recorder.MarkLast(Outcome::kBadContent);
            // Which version came back (older: a stale read or a late write; newer: none
            // was sent) is what tells the causes apart.
            std::cerr << "user_sim: bad download at " << NowUs() << " us: user " << user << " got '"
                      << res.body.substr(0, std::min<size_t>(res.body.find('\n'), 32))
                      << "', acked s" << acked_seq << ", attempted s" << attempted_seq << "\n";
          }
          break;
        }
        default:
          break;
      }
      // A step with nothing to work on yet gives its turn to the next, unless it is the
      // only kind of step (then it waits its pause, or it would spin).
      if (!ran && o_.steps.size() > 1) continue;
      due = co_await pause();
    }
    if (o_.verify && acked_seq >= 0) {
      lane.files.push_back({user, acct, acked_seq, attempted_seq});
    }
    --live_users_;
  }

  void RunLoad(std::vector<LevelInfo>* levels) {
    std::vector<std::thread> threads;
    std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
    for (auto& lane : lanes_) {
      lane->io.restart();
      guards.push_back(net::make_work_guard(lane->io));
      threads.emplace_back([l = lane.get()] { l->io.run(); });
    }
    int started = 0;
    const bool prepares = NeedsPreparation();
    for (size_t li = 0; li < o_.levels.size() && !stop_; ++li) {
      int want = o_.levels[li];
      // New users arrive at `ramp_per_s`, as visitors do, not as one burst of connections
      // (a burst only measures the listen backlog); what they do meanwhile is recorded
      // under kRampLevel and left out of the level's figures.
      level_ = kRampLevel;
      active_users_ = want;
      const auto ramp_start = Clock::now();
      for (int first = started; started < want && !stop_; ++started) {
        auto due = ramp_start + std::chrono::microseconds(static_cast<int64_t>(
                                    (started - first) * 1e6 / std::max(1.0, o_.ramp_per_s)));
        if (due > Clock::now()) std::this_thread::sleep_until(due);
        Lane& lane = *lanes_[started % lanes_.size()];
        ++live_users_;
        if (prepares) ++preparing_;
        net::co_spawn(lane.io,
                      RunUser(started % static_cast<int>(lanes_.size()), started, prepares),
                      net::detached);
      }
      // Users that make their own inputs first (simulation.h) are waited for, each at most
      // its stagger and one request.
      const auto ready_by = Clock::now() + ThinkMean() + o_.timeout;
      while (preparing_ > 0 && Clock::now() < ready_by && !stop_) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      level_ = static_cast<int>(li);
      LevelInfo info{want, NowUs(), 0, {}};
      const std::vector<double> cpu_before = SampleCpuSeconds(o_.servers);
      auto end = Clock::now() + o_.stage;
      while (Clock::now() < end && !stop_) {
        if (o_.interrupted != nullptr && o_.interrupted->load()) stop_ = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      info.end_us = NowUs();
      const std::vector<double> cpu_after = SampleCpuSeconds(o_.servers);
      for (size_t i = 0; i < o_.servers.size(); ++i) {
        // A process that died meanwhile has no figure rather than a wrong one.
        if (cpu_before[i] >= 0 && cpu_after[i] >= 0) {
          info.server_cpu_s.emplace_back(o_.servers[i].name, cpu_after[i] - cpu_before[i]);
        }
      }
      levels->push_back(info);
    }
    stop_ = true;
    // Users finish their request in flight (bounded by the timeout), then leave.
    while (live_users_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    guards.clear();
    for (auto& t : threads) t.join();
    stop_ = false;  // verification requests may retry again
  }

  net::awaitable<void> Verify(int lane_index) {
    Lane& lane = *lanes_[lane_index];
    const int retries = std::max(o_.retries, 8);
    // Mails: every acknowledged subject must be in its recipient's inbox.
    std::vector<std::vector<std::string>> wanted(accounts_.size());
    for (const auto& l : lanes_) {
      for (const auto& m : l->mails) {
        if (static_cast<size_t>(m.recipient) % lanes_.size() == static_cast<size_t>(lane_index)) {
          wanted[m.recipient].push_back(m.subject);
        }
      }
    }
    for (size_t a = lane_index; a < accounts_.size(); a += lanes_.size()) {
      if (wanted[a].empty()) continue;
      HttpSession http(co_await net::this_coro::executor, targets_, a);
      http.set_session(accounts_[a].cookie, accounts_[a].csrf);
      std::set<std::string> seen;
      std::string cursor;
      bool listed = true;
      do {
        const Step list{Op::kVerify, "GET",
                        "/api/mail?folder=inbox&limit=500&cursor=" + UrlEncode(cursor), "",
                        retries};
        auto res = co_await Call(lane, http, -1, list);
        auto j = json::parse(res.body, nullptr, false);
        if (res.status != 200 || !j.is_object()) {
          listed = false;
          Problem("inbox of " + accounts_[a].name + " unreadable: " + std::to_string(res.status));
          break;
        }
        for (const auto& m : j["messages"]) seen.insert(m.value("subject", ""));
        cursor = j.value("next", "");
      } while (!cursor.empty());
      std::lock_guard lock(mu_);
      verify_.mails_acked += static_cast<int64_t>(wanted[a].size());
      for (const auto& s : wanted[a]) {
        if (!listed || !seen.count(s)) {
          ++verify_.mails_missing;
          if (verify_.problems.size() < 20 && listed) {
            verify_.problems.push_back("mail '" + s + "' missing from " + accounts_[a].name);
          }
        }
      }
    }
    // Files: each user's file holds its last acknowledged upload (or a later one it sent).
    for (const auto& f : lane.files) {
      HttpSession http(co_await net::this_coro::executor, targets_, f.user);
      http.set_session(accounts_[f.account].cookie, accounts_[f.account].csrf);
      const Step read{Op::kVerify, "GET", "/api/files/content?path=" + UrlEncode(FilePath(f.user)),
                      "", retries};
      auto res = co_await Call(lane, http, f.user, read);
      bool good = false;
      for (int64_t s = f.acked_seq; s <= f.attempted_seq && !good; ++s) {
        good = res.status == 200 && res.body == FileContent(f.user, s, o_.file_bytes);
      }
      std::lock_guard lock(mu_);
      ++verify_.files_acked;
      if (!good) {
        ++verify_.files_bad;
        if (verify_.problems.size() < 20) {
          verify_.problems.push_back(
              "file " + FilePath(f.user) + ": status " + std::to_string(res.status) + ", starts '" +
              res.body.substr(0, res.body.find('\n')) + "', acked s" + std::to_string(f.acked_seq));
        }
      }
    }
  }

  void Problem(std::string p) {
    std::lock_guard lock(mu_);
    if (verify_.problems.size() < 20) verify_.problems.push_back(std::move(p));
  }

  const SimOptions o_;
  std::vector<net::ip::tcp::endpoint> targets_;
  Clock::time_point start_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::vector<Account> accounts_;
  std::atomic<bool> stop_{false};
  std::atomic<int> active_users_{0};
  std::atomic<int> live_users_{0};
  std::atomic<int> preparing_{0};  // users still making their own inputs
  std::atomic<int> level_{0};
  std::atomic<int64_t> issued_{0};
  std::mutex mu_;
  std::atomic<bool> setup_failed_{false};
  std::string setup_error_;  // GUARDED_BY(mu_)
  std::string first_error_;  // GUARDED_BY(mu_)
  VerifyReport verify_;      // GUARDED_BY(mu_)
};

}  // namespace

SimResult RunSimulation(const SimOptions& options) { return Simulation(options).Run(); }

}  // namespace penncloud::sim
