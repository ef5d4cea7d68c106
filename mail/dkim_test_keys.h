// Fresh DKIM keys for tests (OpenSSL), as scripts/lib/dkim.sh makes them for the servers.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <string>

#include "mail/dkim.h"

namespace penncloud::mail {

inline std::string NewTestKeyPem(bool ed25519) {
  EVP_PKEY* pkey = ed25519 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                           : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(length));
  BIO_free(bio);
  EVP_PKEY_free(pkey);
  return pem;
}

inline DkimKey NewTestKey(const std::string& domain, const std::string& selector, bool ed25519) {
  return *MakeDkimKey(domain, selector, NewTestKeyPem(ed25519));
}

}  // namespace penncloud::mail
