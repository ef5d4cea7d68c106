#include "mail/dkim.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/types.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

// libopendkim's header is C99 (_Bool, BSD integer types) without C++ guards.
#define _Bool bool
extern "C" {
#include <opendkim/dkim.h>
}
#undef _Bool

#include "mail/header_fields.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

u_char* Bytes(std::string_view s) { return reinterpret_cast<u_char*>(const_cast<char*>(s.data())); }
std::string Text(const u_char* s) {
  return s == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(s));
}

// The DKIM handle's user context while verifying.
struct VerifyContext {
  DnsResolver* resolver;
  std::set<std::string> temp_failed;  // key names whose lookup failed for now
};

std::string KeyName(DKIM_SIGINFO* sig) {
  return Cat(Text(dkim_sig_getselector(sig)), "._domainkey.", Text(dkim_sig_getdomain(sig)));
}

// libopendkim asks for the TXT record `selector._domainkey.domain` here instead of querying
// DNS itself.
DKIM_CBSTAT LookupKey(DKIM* dkim, DKIM_SIGINFO* sig, u_char* buf, size_t buflen) {
  auto* context = static_cast<VerifyContext*>(dkim_get_user_context(dkim));
  if (context == nullptr) return DKIM_CBSTAT_ERROR;
  std::string name = KeyName(sig);
  DnsAnswer answer = context->resolver->Lookup(name, DnsType::kTxt);
  if (answer.status == DnsStatus::kTempError) {
    // TRYAGAIN would abandon every signature of the message; this one alone is temperror.
    context->temp_failed.insert(ToLower(name));
    return DKIM_CBSTAT_NOTFOUND;
  }
  if (answer.records.empty()) return DKIM_CBSTAT_NOTFOUND;
  // RFC 6376 3.6.2.2: more than one key record is ambiguous; use none.
  if (answer.records.size() > 1) return DKIM_CBSTAT_ERROR;
  const std::string& record = answer.records.front();
  if (record.size() + 1 > buflen) return DKIM_CBSTAT_ERROR;
  std::memcpy(buf, record.c_str(), record.size() + 1);
  return DKIM_CBSTAT_CONTINUE;
}

// One library handle for the process (libopendkim's handles are shared between threads;
// each message gets its own DKIM context).
DKIM_LIB* Library() {
  static DKIM_LIB* lib = [] {
    DKIM_LIB* l = dkim_init(nullptr, nullptr);
    if (l != nullptr) dkim_set_key_lookup(l, LookupKey);
    return l;
  }();
  return lib;
}

// Feeds the message to a signing or verifying context up to the end of the body.
DKIM_STAT Feed(DKIM* dkim, std::string_view message) {
  HeaderSection header = SplitHeader(message);
  for (std::string_view field : header.fields) {
    if (FieldName(field).empty()) continue;  // not a header field; DKIM cannot sign it
    DKIM_STAT s = dkim_header(dkim, Bytes(field), field.size());
    if (s != DKIM_STAT_OK) return s;
  }
  DKIM_STAT s = dkim_eoh(dkim);
  if (s != DKIM_STAT_OK) return s;
  std::string_view body = message.substr(header.body_offset);
  if (!body.empty()) {
    s = dkim_body(dkim, Bytes(body), body.size());
    if (s != DKIM_STAT_OK) return s;
  }
  return dkim_eom(dkim, nullptr);
}

struct DkimFree {
  void operator()(DKIM* d) const { dkim_free(d); }
};
using DkimHandle = std::unique_ptr<DKIM, DkimFree>;

// libopendkim folds its header with bare LF; stored mail uses CRLF.
std::string WithCrlf(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out.push_back('\r');
    out.push_back(text[i]);
  }
  return out;
}

std::string Outcome(DKIM_SIGINFO* sig) {
  unsigned int flags = dkim_sig_getflags(sig);
  if ((flags & DKIM_SIGFLAG_PASSED) != 0 && dkim_sig_getbh(sig) == DKIM_SIGBH_MATCH) {
    return "pass";
  }
  switch (dkim_sig_geterror(sig)) {
    case DKIM_SIGERROR_KEYFAIL:
      return "temperror";  // the key lookup failed for now
    case DKIM_SIGERROR_BADSIG:
    case DKIM_SIGERROR_OK:  // verified, but the body hash differs (body changed)
    case DKIM_SIGERROR_EXPIRED:
    case DKIM_SIGERROR_KEYREVOKED:
      return "fail";
    default:  // no key, a broken key or signature: cannot be checked (RFC 8601 2.7.1)
      return "permerror";
  }
}

DkimResult Unchecked(std::string result, std::string reason) {
  DkimResult r;
  r.result = std::move(result);
  r.reason = std::move(reason);
  return r;
}

}  // namespace

absl::StatusOr<DkimKey> MakeDkimKey(std::string domain, std::string selector, std::string pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(Cat("DKIM key ", domain, "/", selector, " is not a PEM key"));
  }
  int type = EVP_PKEY_get_base_id(pkey);
  int bits = EVP_PKEY_get_bits(pkey);
  EVP_PKEY_free(pkey);
  DkimKey key{std::move(domain), std::move(selector), std::move(pem), type == EVP_PKEY_ED25519};
  if (!key.ed25519 && (type != EVP_PKEY_RSA || bits < 1024)) {
    return absl::InvalidArgumentError(Cat("DKIM key ", key.domain, "/", key.selector,
                                          " is neither Ed25519 nor RSA >= 1024 bits"));
  }
  return key;
}

std::string DkimPublicRecord(const DkimKey& key) {
  BIO* bio = BIO_new_mem_buf(key.pem.data(), static_cast<int>(key.pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (pkey == nullptr) return "";
  std::string der;
  if (key.ed25519) {
    size_t length = 32;
    der.resize(length);
    if (EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(der.data()), &length) !=
        1) {
      der.clear();
    }
    der.resize(length);
  } else {
    int length = i2d_PUBKEY(pkey, nullptr);
    der.resize(length > 0 ? length : 0);
    unsigned char* out = reinterpret_cast<unsigned char*>(der.data());
    if (length <= 0 || i2d_PUBKEY(pkey, &out) != length) der.clear();
  }
  EVP_PKEY_free(pkey);
  if (der.empty()) return "";
  return Cat("v=DKIM1; k=", key.ed25519 ? "ed25519" : "rsa", "; p=", Base64Encode(der));
}

absl::StatusOr<std::vector<DkimKey>> LoadDkimKeys(const std::string& dir, std::string_view domain) {
  std::vector<DkimKey> keys;
  std::error_code ec;
  std::string prefix = Cat(ToLower(domain), ".");
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix) || !name.ends_with(".key")) continue;
    std::string selector = name.substr(prefix.size(), name.size() - prefix.size() - 4);
    if (selector.empty() || selector.find('.') != std::string::npos) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream pem;
    pem << in.rdbuf();
    if (!in) return absl::PermissionDeniedError(Cat("cannot read ", entry.path().string()));
    auto key = MakeDkimKey(ToLower(domain), selector, pem.str());
    if (!key.ok()) return key.status();
    keys.push_back(std::move(*key));
  }
  std::sort(keys.begin(), keys.end(),
            [](const DkimKey& a, const DkimKey& b) { return a.selector < b.selector; });
  return keys;
}

absl::StatusOr<std::string> DkimSigner::Sign(std::string_view message) const {
  std::string signatures;
  for (const DkimKey& key : keys_) {
    DKIM_STAT status = DKIM_STAT_OK;
    DkimHandle dkim(
        dkim_sign(Library(), Bytes("penncloud"), nullptr, Bytes(key.pem), Bytes(key.selector),
                  Bytes(key.domain), DKIM_CANON_RELAXED, DKIM_CANON_RELAXED,
                  key.ed25519 ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256, -1, &status));
    if (dkim == nullptr) {
      return absl::InternalError(Cat("DKIM signing: ", dkim_getresultstr(status)));
    }
    if ((status = Feed(dkim.get(), message)) != DKIM_STAT_OK) {
      return absl::InternalError(Cat("DKIM signing: ", dkim_getresultstr(status)));
    }
    u_char* value = nullptr;
    size_t length = 0;
    constexpr std::string_view kName = "DKIM-Signature: ";
    status = dkim_getsighdr_d(dkim.get(), kName.size(), &value, &length);
    if (status != DKIM_STAT_OK) {
      return absl::InternalError(Cat("DKIM signing: ", dkim_getresultstr(status)));
    }
    signatures +=
        Cat(kName, WithCrlf(std::string_view(reinterpret_cast<char*>(value), length)), "\r\n");
  }
  return Cat(signatures, message);
}

std::vector<DkimResult> VerifyDkim(std::string_view message, DnsResolver& resolver) {
  DKIM_STAT status = DKIM_STAT_OK;
  DkimHandle dkim(dkim_verify(Library(), Bytes("penncloud"), nullptr, &status));
  if (dkim == nullptr) return {Unchecked("temperror", "no DKIM context")};
  VerifyContext context{&resolver, {}};
  dkim_set_user_context(dkim.get(), &context);
  status = Feed(dkim.get(), message);
  if (status == DKIM_STAT_NOSIG) return {};
  DKIM_SIGINFO** sigs = nullptr;
  int count = 0;
  if (dkim_getsiglist(dkim.get(), &sigs, &count) != DKIM_STAT_OK) {
    // Signatures whose tags did not parse leave no handle behind.
    return {Unchecked("permerror", dkim_getresultstr(status))};
  }
  std::vector<DkimResult> results;
  for (int i = 0; i < count; ++i) {
    DKIM_SIGINFO* sig = sigs[i];
    DkimResult r;
    r.result = context.temp_failed.contains(ToLower(KeyName(sig))) ? "temperror" : Outcome(sig);
    r.domain = ToLower(Text(dkim_sig_getdomain(sig)));
    r.selector = Text(dkim_sig_getselector(sig));
    r.algorithm = Text(dkim_sig_gettagvalue(sig, false, Bytes("a")));
    r.signature = Text(dkim_sig_gettagvalue(sig, false, Bytes("b"))).substr(0, 8);
    if (r.result != "pass") r.reason = dkim_sig_geterrorstr(dkim_sig_geterror(sig));
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace penncloud::mail
