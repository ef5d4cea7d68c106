#include "common/certificate.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace penncloud::tls {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES, GENERAL_NAMES_free>>;

BioPtr MemoryBio(absl::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<CertificateInfo> Describe(X509* cert) {
  NamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  std::string uri;
  int uris = 0;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    ++uris;
    const ASN1_IA5STRING* text = name->d.uniformResourceIdentifier;
    uri.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
               ASN1_STRING_length(text));
  }
  if (uris != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate has ", uris, " URI SANs; want one spiffe://penncloud/ identity"));
  }
  absl::StatusOr<Identity> identity = Identity::FromUri(uri);
  if (!identity.ok()) return identity.status();
  struct tm not_after {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &not_after) != 1) {
    return absl::InvalidArgumentError("certificate has an unreadable expiry");
  }
  return CertificateInfo{.identity = *std::move(identity), .not_after_unix = timegm(&not_after)};
}

}  // namespace

absl::StatusOr<CertificateInfo> ReadCertificate(absl::string_view pem) {
  BioPtr bio = MemoryBio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return absl::InvalidArgumentError("not a PEM certificate");
  return Describe(cert.get());
}

absl::StatusOr<CertificateInfo> CheckKeyPair(const std::string& ca_file,
                                             const std::string& cert_file,
                                             const std::string& key_file) {
  absl::StatusOr<std::string> cert_pem = ReadFile(cert_file);
  if (!cert_pem.ok()) return cert_pem.status();
  absl::StatusOr<std::string> key_pem = ReadFile(key_file);
  if (!key_pem.ok()) return key_pem.status();
  BioPtr cert_bio = MemoryBio(*cert_pem);
  X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return absl::InvalidArgumentError(absl::StrCat(cert_file, ": not a PEM certificate"));
  BioPtr key_bio = MemoryBio(*key_pem);
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key) return absl::InvalidArgumentError(absl::StrCat(key_file, ": not a PEM private key"));
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(key_file, " is not the key of the certificate ", cert_file));
  }
  StorePtr store(X509_STORE_new());
  if (X509_STORE_load_file(store.get(), ca_file.c_str()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(ca_file, ": not a PEM CA bundle"));
  }
  StoreCtxPtr verify(X509_STORE_CTX_new());
  X509_STORE_CTX_init(verify.get(), store.get(), cert.get(), nullptr);
  if (X509_verify_cert(verify.get()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(cert_file, " does not verify against ", ca_file, ": ",
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(verify.get()))));
  }
  absl::StatusOr<CertificateInfo> info = Describe(cert.get());
  if (!info.ok())
    return absl::InvalidArgumentError(absl::StrCat(cert_file, ": ", info.status().message()));
  return info;
}

namespace {

absl::StatusOr<KeyPtr> ReadKey(const std::string& path) {
  absl::StatusOr<std::string> pem = ReadFile(path);
  if (!pem.ok()) return pem.status();
  BioPtr bio = MemoryBio(*pem);
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return absl::InvalidArgumentError(absl::StrCat(path, ": not a PEM private key"));
  return key;
}

// Writes `text` to `path` with `mode`, by rename, so a reader never sees half a file.
absl::Status WriteFile(const std::string& path, const std::string& text, mode_t mode) {
  const std::string temporary = path + ".new";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot write ", temporary));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!written || ::rename(temporary.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

template <typename Write>
std::string ToPem(Write write) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  write(bio.get());
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

bool AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  const bool added = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return added;
}

}  // namespace

absl::Status IssueCertificate(const std::string& dir, const std::string& name,
                              const Identity& identity, const std::vector<std::string>& ips) {
  const std::string cert_path = absl::StrCat(dir, "/", name, ".crt");
  const std::string key_path = absl::StrCat(dir, "/", name, ".key");
  if (CheckKeyPair(dir + "/ca.crt", cert_path, key_path).ok()) return absl::OkStatus();
  if (::access((dir + "/ca.key").c_str(), R_OK) != 0) {
    return absl::NotFoundError(
        absl::StrCat("no CA key in ", dir, " to issue ", name, ".crt; put the certificate there"));
  }
  absl::StatusOr<KeyPtr> ca_key = ReadKey(dir + "/ca.key");
  if (!ca_key.ok()) return ca_key.status();
  absl::StatusOr<std::string> ca_pem = ReadFile(dir + "/ca.crt");
  if (!ca_pem.ok()) return ca_pem.status();
  BioPtr ca_bio = MemoryBio(*ca_pem);
  X509Ptr ca(PEM_read_bio_X509(ca_bio.get(), nullptr, nullptr, nullptr));
  if (!ca) return absl::InvalidArgumentError(absl::StrCat(dir, "/ca.crt: not a PEM certificate"));

  KeyPtr key(EVP_EC_gen("P-256"));
  X509Ptr cert(X509_new());
  if (!key || !cert) return absl::InternalError("cannot make a key");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive
  BIGNUM* number = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(number, X509_get_serialNumber(cert.get()));
  BN_free(number);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 397L * 86400);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("PennCloud"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get()));
  X509_set_pubkey(cert.get(), key.get());
  std::string san = absl::StrCat("URI:", identity.Uri(), ",DNS:localhost");
  for (const std::string& ip : ips) absl::StrAppend(&san, ",IP:", ip);
  if (!AddExtension(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !AddExtension(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature") ||
      !AddExtension(cert.get(), ca.get(), NID_ext_key_usage, "serverAuth,clientAuth") ||
      !AddExtension(cert.get(), ca.get(), NID_subject_alt_name, san) ||
      X509_sign(cert.get(), ca_key->get(), EVP_sha256()) == 0) {
    return absl::InternalError(absl::StrCat("cannot sign a certificate for ", identity.Path()));
  }
  // Key first: a process reloading in between sees a mismatched pair and keeps its old one.
  if (absl::Status s = WriteFile(key_path, ToPem([&](BIO* b) {
                                   PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0,
                                                            nullptr, nullptr);
                                 }),
                                 0600);
      !s.ok()) {
    return s;
  }
  return WriteFile(cert_path, ToPem([&](BIO* b) { PEM_write_bio_X509(b, cert.get()); }), 0644);
}

}  // namespace penncloud::tls
