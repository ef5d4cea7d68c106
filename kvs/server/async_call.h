// The replica's calls on the loop's completion queue (loop_queue.h): each object asks gRPC
// for the next call of its method, takes the one that arrives (and asks for another), and
// lives until its answer is sent.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "grpcpp/grpcpp.h"
#include "kvs/server/loop_queue.h"

namespace penncloud::kvs::server {

// A call the loop answers, now or later: its response is filled in place, then Finish sends
// it. The polling thread only.
class CallHandle {
 public:
  virtual ~CallHandle() = default;
  // Sends the response as it stands with `status`; exactly once.
  virtual void Finish(const grpc::Status& status) = 0;
  // Runs `cancelled` if the caller goes away before Finish (a long-held call: a watch).
  virtual void OnCancel(std::function<void()> cancelled) = 0;
};

// One unary method: how to ask gRPC for its next call (the generated Request<Method> of
// the async service) and what to do with one that arrived. `serve` answers through the
// handle, at once or later.
template <typename Request, typename Response>
struct UnaryMethod {
  using Writer = grpc::ServerAsyncResponseWriter<Response>;
  std::function<void(grpc::ServerContext*, Request*, Writer*, grpc::ServerCompletionQueue*, void*)>
      request;
  std::function<void(grpc::ServerContext& context, const Request& request, Response& response,
                     CallHandle* call)>
      serve;
  LoopQueue* queue = nullptr;
  bool notify_cancel = false;  // the calls may be held long: tell `serve`'s hook of a cancel
};

template <typename Request, typename Response>
class UnaryCall final : public CallHandle {
 public:
  using Method = UnaryMethod<Request, Response>;
  // Asks for the next call of `method` (which outlives every call).
  static void Listen(const Method* method) {
    if (!method->queue->closed()) new UnaryCall(method);
  }

  void Finish(const grpc::Status& status) override {
    finished_ = true;
    if (m_->queue->closed()) {  // shutting down: nothing may start on the queue
      Release();
      return;
    }
    writer_.Finish(response_, status, &sent_);
  }
  void OnCancel(std::function<void()> cancelled) override { cancelled_ = std::move(cancelled); }

 private:
  explicit UnaryCall(const Method* method) : m_(method), writer_(&context_) {
    if (m_->notify_cancel) context_.AsyncNotifyWhenDone(&done_);
    m_->request(&context_, &request_, &writer_, m_->queue->cq(), &arrived_);
  }

  // The call's steps, as tags of the queue.
  struct Step final : LoopTag {
    Step(UnaryCall* c, void (UnaryCall::*f)(bool)) : call(c), fn(f) {}
    void Proceed(bool ok) override { (call->*fn)(ok); }
    UnaryCall* call;
    void (UnaryCall::*fn)(bool);
  };

  void Arrived(bool ok) {
    if (!ok) {  // the server is shutting down: no call came, and no done notice will
      delete this;
      return;
    }
    Listen(m_);
    pending_ = m_->notify_cancel ? 2 : 1;  // the answer, and the done notice
    m_->serve(context_, request_, response_, this);
  }
  void Sent(bool) { Release(); }
  void Done(bool) {
    if (!finished_ && context_.IsCancelled() && cancelled_) cancelled_();
    Release();
  }
  void Release() {
    if (--pending_ == 0) delete this;
  }

  const Method* m_;
  grpc::ServerContext context_;
  Request request_;
  Response response_;
  typename Method::Writer writer_;
  Step arrived_{this, &UnaryCall::Arrived};
  Step sent_{this, &UnaryCall::Sent};
  Step done_{this, &UnaryCall::Done};
  int pending_ = 0;
  bool finished_ = false;
  std::function<void()> cancelled_;
};

// One server-streaming method whose messages come from a long read of the store (a
// snapshot, a migrating range): `produce` runs on a thread of its own and hands each message
// to `write`, which returns once it went out (false: the caller is gone; stop).
template <typename Request, typename Message>
struct StreamMethod {
  using Writer = grpc::ServerAsyncWriter<Message>;
  std::function<void(grpc::ServerContext*, Request*, Writer*, grpc::ServerCompletionQueue*, void*)>
      request;
  std::function<grpc::Status(grpc::ServerContext& context, const Request& request,
                             const std::function<bool(const Message&)>& write)>
      produce;
  LoopQueue* queue = nullptr;
  std::atomic<int>* running = nullptr;  // streams whose thread has not been joined
};

template <typename Request, typename Message>
class StreamCall final {
 public:
  using Method = StreamMethod<Request, Message>;
  static void Listen(const Method* method) {
    if (!method->queue->closed()) new StreamCall(method);
  }

 private:
  explicit StreamCall(const Method* method) : m_(method), writer_(&context_) {
    m_->request(&context_, &request_, &writer_, m_->queue->cq(), &arrived_);
  }

  struct Step final : LoopTag {
    Step(StreamCall* c, void (StreamCall::*f)(bool)) : call(c), fn(f) {}
    void Proceed(bool ok) override { (call->*fn)(ok); }
    StreamCall* call;
    void (StreamCall::*fn)(bool);
  };

  void Arrived(bool ok) {
    if (!ok) {
      delete this;
      return;
    }
    Listen(m_);
    m_->running->fetch_add(1);
    thread_ = std::thread([this] {
      const grpc::Status status = m_->produce(
          context_, request_, [this](const Message& message) { return Write(message); });
      // The replica waits for `running` to drop to zero before it closes the queue.
      writer_.Finish(status, &finished_);
    });
  }
  // The stream's thread: one message out, waiting for the loop to see it written.
  bool Write(const Message& message) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      written_ = false;
    }
    writer_.Write(message, &wrote_);
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return written_; });
    return write_ok_;
  }
  void Wrote(bool ok) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      written_ = true;
      write_ok_ = ok;
    }
    cv_.notify_one();
  }
  void Finished(bool) {
    thread_.join();  // it only had to return from Finish
    m_->running->fetch_sub(1);
    delete this;
  }

  const Method* m_;
  grpc::ServerContext context_;
  Request request_;
  typename Method::Writer writer_;
  Step arrived_{this, &StreamCall::Arrived};
  Step wrote_{this, &StreamCall::Wrote};
  Step finished_{this, &StreamCall::Finished};
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool written_ = false;   // GUARDED_BY(mu_)
  bool write_ok_ = false;  // GUARDED_BY(mu_)
};

}  // namespace penncloud::kvs::server
