#include "daemon/server/tcp_credentials.h"

#include <grpcpp/security/server_credentials.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/common/file_text.h"

namespace nslab::server {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using UniqueBio = std::unique_ptr<BIO, BioFree>;
using UniqueX509 = std::unique_ptr<X509, X509Free>;
using UniqueKey = std::unique_ptr<EVP_PKEY, KeyFree>;

UniqueBio MemoryBio(const std::string& text) {
  return UniqueBio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// An encrypted key would make OpenSSL prompt on the terminal; a daemon has none to ask.
int NoPassphrase(char*, int, int, void*) { return -1; }

// The certificates in a PEM text, in order; empty when there is none that parses.
std::vector<UniqueX509> Certificates(const std::string& pem) {
  std::vector<UniqueX509> certificates;
  auto bio = MemoryBio(pem);
  while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr)) {
    certificates.emplace_back(certificate);
  }
  ERR_clear_error();  // the end of the text reads as an error
  return certificates;
}

UniqueKey PrivateKey(const std::string& pem) {
  auto bio = MemoryBio(pem);
  UniqueKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  return key;
}

absl::StatusOr<std::string> ReadFlagFile(const char* flag, const std::string& path) {
  auto text = ReadTextFile(path);
  if (!text.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": ", text.status().message()));
  }
  return text;
}

absl::Status NotPem(const char* flag, const std::string& path, const char* expected) {
  return absl::InvalidArgumentError(
      absl::StrCat(flag, " ", path, ": no ", expected, " in it (expected PEM text)"));
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> TcpListenerCredentials(
    const std::string& address, const TcpTlsFiles& files) {
  const bool any_file =
      !files.cert_file.empty() || !files.key_file.empty() || !files.ca_file.empty();
  if (address.empty()) {
    if (any_file) {
      return absl::InvalidArgumentError(
          "--tls-cert, --tls-key and --tls-ca secure the TCP listener; add --listen host:port, "
          "or leave them out to serve the unix socket only");
    }
    return nullptr;
  }
  std::vector<std::string> missing;
  if (files.cert_file.empty()) {
    missing.push_back("--tls-cert FILE (nslabd's certificate)");
  }
  if (files.key_file.empty()) {
    missing.push_back("--tls-key FILE (its private key)");
  }
  if (files.ca_file.empty()) {
    missing.push_back("--tls-ca FILE (the CA that signs the certificates of allowed clients)");
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen ", address,
        " needs mutual TLS, loopback included (a client of nslabd is root on this host); add ",
        absl::StrJoin(missing, ", ")));
  }

  auto cert = ReadFlagFile("--tls-cert", files.cert_file);
  if (!cert.ok()) {
    return cert.status();
  }
  auto key = ReadFlagFile("--tls-key", files.key_file);
  if (!key.ok()) {
    return key.status();
  }
  auto ca = ReadFlagFile("--tls-ca", files.ca_file);
  if (!ca.ok()) {
    return ca.status();
  }
  const auto chain = Certificates(*cert);
  if (chain.empty()) {
    return NotPem("--tls-cert", files.cert_file, "certificate");
  }
  const auto private_key = PrivateKey(*key);
  if (!private_key) {
    return NotPem("--tls-key", files.key_file, "unencrypted private key");
  }
  if (X509_check_private_key(chain.front().get(), private_key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls-key ", files.key_file, " is not the key of the certificate in ", files.cert_file));
  }
  if (Certificates(*ca).empty()) {
    return NotPem("--tls-ca", files.ca_file, "CA certificate");
  }

  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = *std::move(ca);
  ssl.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
  return grpc::SslServerCredentials(ssl);
}

}  // namespace nslab::server
