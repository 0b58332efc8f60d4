// SHA digests fetched from OpenSSL's default provider once per process.
//
// EVP_sha256() and friends make OpenSSL 3 look the implementation up again on every
// EVP_DigestInit: for a short message (a TBSCertificate, an OCSP ResponseData) that look-up costs
// more than the hashing. A fetched EVP_MD is immutable and may be shared by threads. Never null:
// a build of OpenSSL without these digests is not one Keyline can run on (the process aborts).
#pragma once

#include <openssl/evp.h>

namespace keyline {

const EVP_MD* Sha1Digest();
const EVP_MD* Sha256Digest();
const EVP_MD* Sha384Digest();

}  // namespace keyline
