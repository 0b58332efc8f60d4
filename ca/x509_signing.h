// Signs an X509 object's TBSCertificate with a key that never leaves the HSM.
//
// OpenSSL signs certificates with an EVP_PKEY it can hold; ours lives behind PKCS#11. So we set
// the signature AlgorithmIdentifier (in TBSCertificate and outside it), DER-encode the TBS,
// hash it here, let the HSM sign the digest (hsm::SigningKey::SignDigest) and place the
// signature into the certificate. The same steps serve CRLs and OCSP responses later.
#pragma once

#include <string>

#include <openssl/x509.h>

#include "absl/status/statusor.h"
#include "hsm/signing_key.h"

namespace keyline::ca {

// The AlgorithmIdentifier NID for the key: ecdsa-with-SHA256 for P-256, ecdsa-with-SHA384 for P-384.
int SignatureNid(const hsm::SigningKey& key);

// Hashes `data` with the key's digest and signs it in the HSM; returns the DER ECDSA-Sig-Value.
[[nodiscard]] absl::StatusOr<std::string> SignWithKey(const hsm::SigningKey& key,
                                                      std::string_view data);

// Sets the signature algorithm, signs the TBSCertificate and returns the whole certificate as
// DER. `certificate` must have every TBS field set.
[[nodiscard]] absl::StatusOr<std::string> SignCertificate(X509* certificate,
                                                          const hsm::SigningKey& key);

}  // namespace keyline::ca
