#include "common/certificate.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

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
  NamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
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
    return absl::InvalidArgumentError(absl::StrCat(
        cert_file, " does not verify against ", ca_file, ": ",
        X509_verify_cert_error_string(X509_STORE_CTX_get_error(verify.get()))));
  }
  absl::StatusOr<CertificateInfo> info = Describe(cert.get());
  if (!info.ok()) return absl::InvalidArgumentError(absl::StrCat(cert_file, ": ", info.status().message()));
  return info;
}

}  // namespace penncloud::tls
