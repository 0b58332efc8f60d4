// A subject public key as a certificate carries it (SubjectPublicKeyInfo: algorithm and key bits)
// together with the EVP_PKEY OpenSSL computes with.
//
// Why not just an EVP_PKEY: OpenSSL 3.0 turns an EVP_PKEY into a SubjectPublicKeyInfo
// (X509_set_pubkey) by encoding it and decoding the result through its provider decoders, about
// 230 µs on our machines, more than the ECDSA signature on the certificate. Keeping the algorithm
// and bits as they arrived lets the certificate builder copy them in a couple of microseconds.
#pragma once

#include <string>
#include <string_view>

#include <openssl/x509.h>

#include "absl/status/statusor.h"
#include "common/openssl_ptr.h"

namespace keyline::ca {

using X509AlgorPtr = OpenSslPtr<X509_ALGOR, X509_ALGOR_free>;

class PublicKeyInfo {
 public:
  // From a key OpenSSL already holds (HSM public keys, software keys): encodes it once, the slow
  // way. Not for per-request use.
  [[nodiscard]] static absl::StatusOr<PublicKeyInfo> FromKey(EVP_PKEY* key);

  // From parts already decoded (see ca/csr_policy.cc); takes ownership. `key` must be the key
  // that `algorithm` and `key_bits` describe.
  PublicKeyInfo(EvpPkeyPtr key, X509AlgorPtr algorithm, std::string key_bits)
      : key_(std::move(key)), algorithm_(std::move(algorithm)), key_bits_(std::move(key_bits)) {}

  PublicKeyInfo(PublicKeyInfo&&) = default;
  PublicKeyInfo& operator=(PublicKeyInfo&&) = default;

  EVP_PKEY* key() const { return key_.get(); }
  const std::string& key_bits() const { return key_bits_; }  // subjectPublicKey's octets

  // Makes the certificate's subjectPublicKeyInfo a copy of this one, without re-encoding the key.
  [[nodiscard]] absl::Status CopyInto(X509* certificate) const;

  // The SubjectPublicKeyInfo DER (from algorithm and bits, not through OpenSSL's key encoders).
  [[nodiscard]] absl::StatusOr<std::string> ToDer() const;

 private:
  EvpPkeyPtr key_;
  X509AlgorPtr algorithm_;
  std::string key_bits_;
};

}  // namespace keyline::ca
