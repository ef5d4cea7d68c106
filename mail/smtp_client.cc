#include "mail/smtp_client.h"

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <optional>

#include "mail/smtp_reply.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// One connection with a deadline on every step: each step runs the io_context for at most
// the timeout and cancels the socket when it runs out.
class Connection {
 public:
  explicit Connection(const SmtpClientOptions& options) : options_(options) {}

  bool Connect(const std::string& host, int port) {
    boost::system::error_code ec;
    tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (ec) return Fail(ec.message());
    bool done = false;
    asio::async_connect(socket_, endpoints, [&](boost::system::error_code e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    return Run(done) && (ec ? Fail(ec.message()) : true);
  }

  SmtpReply Read() {
    SmtpReplyParser parser;
    for (;;) {
      boost::system::error_code ec;
      bool done = false;
      size_t n = 0;
      auto handler = [&](boost::system::error_code e, size_t bytes) {
        ec = e;
        n = bytes;
        done = true;
      };
      // Bounded: a line longer than the limit ends the read with an error instead of growing
      // the buffer for as long as the server sends.
      auto buffer = asio::dynamic_buffer(in_, kMaxSmtpReplyLineBytes + 2);
      if (tls_) {
        asio::async_read_until(*tls_, buffer, "\r\n", handler);
      } else {
        asio::async_read_until(socket_, buffer, "\r\n", handler);
      }
      if (!Run(done) || ec) {
        Fail(ec == asio::error::not_found ? "reply line too long" : ec ? ec.message() : "timeout");
        return SmtpReply{0, error_};
      }
      std::string_view line(in_.data(), n - 2);
      std::optional<SmtpReply> reply = parser.AddLine(line);
      in_.erase(0, n);
      if (reply) return *reply;
    }
  }

  bool Write(const std::string& data) {
    boost::system::error_code ec;
    bool done = false;
    auto handler = [&](boost::system::error_code e, size_t) {
      ec = e;
      done = true;
    };
    if (tls_) {
      asio::async_write(*tls_, asio::buffer(data), handler);
    } else {
      asio::async_write(socket_, asio::buffer(data), handler);
    }
    return Run(done) && (ec ? Fail(ec.message()) : true);
  }

  SmtpReply Command(const std::string& line) {
    if (!Write(line + "\r\n")) return SmtpReply{0, error_};
    return Read();
  }

  bool StartTls() {
    tls_.emplace(socket_, *options_.tls);
    boost::system::error_code ec;
    bool done = false;
    tls_->async_handshake(asio::ssl::stream_base::client, [&](boost::system::error_code e) {
      ec = e;
      done = true;
    });
    in_.clear();
    return Run(done) && (ec ? Fail(ec.message()) : true);
  }

  const std::string& error() const { return error_; }

 private:
  bool Run(bool& done) {
    io_.restart();
    io_.run_for(options_.timeout);
    if (done) return true;
    boost::system::error_code ec;
    socket_.cancel(ec);
    socket_.close(ec);
    io_.restart();
    io_.run_for(std::chrono::seconds(1));
    return Fail("timeout");
  }
  bool Fail(std::string error) {
    if (error_.empty()) error_ = std::move(error);
    return false;
  }

  const SmtpClientOptions& options_;
  asio::io_context io_;
  tcp::socket socket_{io_};
  std::optional<asio::ssl::stream<tcp::socket&>> tls_;
  std::string in_;
  std::string error_;
};

RecipientOutcome OutcomeOf(int code) {
  if (code >= 200 && code < 300) return RecipientOutcome::kDelivered;
  if (code >= 500 && code < 600) return RecipientOutcome::kPermanentFailure;
  return RecipientOutcome::kTemporaryFailure;
}

std::string DotStuff(const std::string& message) {
  std::string out;
  out.reserve(message.size() + 64);
  bool line_start = true;
  for (char c : message) {
    if (line_start && c == '.') out.push_back('.');
    out.push_back(c);
    line_start = c == '\n';
  }
  if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
  out += ".\r\n";
  return out;
}

}  // namespace

std::vector<RecipientResult> SendMail(const std::string& host, int port, const std::string& sender,
                                      const std::vector<std::string>& recipients,
                                      const std::string& message,
                                      const SmtpClientOptions& options) {
  std::vector<RecipientResult> results;
  auto all = [&](RecipientOutcome outcome, const std::string& reply) {
    results.clear();
    for (const auto& r : recipients) results.push_back({r, outcome, reply});
    return results;
  };
  // A whole-session failure: 5xx is permanent for everyone, anything else temporary.
  auto session_failed = [&](const SmtpReply& reply) {
    return all(reply.code >= 500 ? RecipientOutcome::kPermanentFailure
                                 : RecipientOutcome::kTemporaryFailure,
               reply.text.empty() ? "connection failed" : reply.text);
  };

  Connection c(options);
  if (!c.Connect(host, port)) {
    return all(RecipientOutcome::kTemporaryFailure, Cat("connect to ", host, ": ", c.error()));
  }
  SmtpReply greeting = c.Read();
  if (greeting.code != 220) return session_failed(greeting);
  SmtpReply ehlo = c.Command(Cat("EHLO ", options.helo));
  if (ehlo.code != 250) ehlo = c.Command(Cat("HELO ", options.helo));
  if (ehlo.code != 250) return session_failed(ehlo);
  if (options.tls != nullptr && ehlo.text.find("STARTTLS") != std::string::npos) {
    SmtpReply start = c.Command("STARTTLS");
    if (start.code == 220) {
      if (!c.StartTls()) {
        return all(RecipientOutcome::kTemporaryFailure, Cat("TLS handshake: ", c.error()));
      }
      ehlo = c.Command(Cat("EHLO ", options.helo));
      if (ehlo.code != 250) return session_failed(ehlo);
    }
  }
  SmtpReply mail = c.Command(Cat("MAIL FROM:<", sender, ">"));
  if (mail.code != 250) return session_failed(mail);
  std::vector<size_t> accepted;
  for (size_t i = 0; i < recipients.size(); ++i) {
    SmtpReply rcpt = c.Command(Cat("RCPT TO:<", recipients[i], ">"));
    if (rcpt.code == 0) return session_failed(rcpt);
    results.push_back({recipients[i], OutcomeOf(rcpt.code), rcpt.text});
    if (rcpt.code == 250 || rcpt.code == 251) accepted.push_back(i);
  }
  if (accepted.empty()) {
    c.Command("QUIT");
    return results;
  }
  SmtpReply data = c.Command("DATA");
  if (data.code != 354) return session_failed(data);
  if (!c.Write(DotStuff(message))) {
    return all(RecipientOutcome::kTemporaryFailure, c.error());
  }
  SmtpReply done = c.Read();
  for (size_t i : accepted) {
    results[i].outcome =
        done.code == 0 ? RecipientOutcome::kTemporaryFailure : OutcomeOf(done.code);
    results[i].reply = done.text;
  }
  c.Command("QUIT");
  return results;
}

std::vector<std::string> LookupMx(const std::string& domain) {
  unsigned char answer[8192];
  int len = res_query(domain.c_str(), ns_c_in, ns_t_mx, answer, sizeof(answer));
  if (len < 0) return {domain};
  ns_msg msg;
  if (ns_initparse(answer, len, &msg) < 0) return {domain};
  std::vector<std::pair<int, std::string>> exchangers;
  for (int i = 0; i < ns_msg_count(msg, ns_s_an); ++i) {
    ns_rr rr;
    if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 || ns_rr_type(rr) != ns_t_mx) continue;
    if (ns_rr_rdlen(rr) < 3) continue;  // a preference and at least the root name
    const unsigned char* rdata = ns_rr_rdata(rr);
    int preference = ns_get16(rdata);
    char name[NS_MAXDNAME];
    if (ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg), rdata + 2, name, sizeof(name)) < 0) {
      continue;
    }
    exchangers.push_back({preference, name});
  }
  if (exchangers.empty()) return {domain};
  std::stable_sort(exchangers.begin(), exchangers.end());
  std::vector<std::string> out;
  for (auto& [p, name] : exchangers) out.push_back(name);
  return out;
}

}  // namespace penncloud::mail
