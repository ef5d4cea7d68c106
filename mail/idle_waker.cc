#include "mail/idle_waker.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

namespace penncloud::mail {

namespace asio = boost::asio;

namespace {

// One repeating timer. Its handlers and its cancellation run on its own strand, so the
// watch may be dropped from any thread while a tick is due.
struct Ticker : std::enable_shared_from_this<Ticker> {
  Ticker(asio::io_context& io, std::chrono::milliseconds interval, std::function<void()> wake)
      : timer(asio::make_strand(io)), interval(interval), wake(std::move(wake)) {}

  void Arm() {
    timer.expires_after(interval);
    timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->stopped) return;
      self->wake();
      self->Arm();
    });
  }

  asio::steady_timer timer;
  const std::chrono::milliseconds interval;
  const std::function<void()> wake;
  bool stopped = false;  // touched on the timer's strand only
};

class PollingWatch : public IdleWaker::Watch {
 public:
  explicit PollingWatch(std::shared_ptr<Ticker> ticker) : ticker_(std::move(ticker)) {}
  ~PollingWatch() override {
    asio::post(ticker_->timer.get_executor(), [t = ticker_] {
      t->stopped = true;
      t->timer.cancel();
    });
  }

 private:
  std::shared_ptr<Ticker> ticker_;
};

}  // namespace

std::unique_ptr<IdleWaker::Watch> PollingIdleWaker::Start(const std::string& /*user*/,
                                                          const std::string& /*folder*/,
                                                          std::function<void()> wake) {
  auto ticker = std::make_shared<Ticker>(io_, interval_, std::move(wake));
  asio::post(ticker->timer.get_executor(), [ticker] { ticker->Arm(); });
  return std::make_unique<PollingWatch>(std::move(ticker));
}

}  // namespace penncloud::mail
