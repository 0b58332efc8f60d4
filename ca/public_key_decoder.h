// SubjectPublicKeyInfo decoding without OpenSSL 3.0's provider decoders.
//
// d2i_PUBKEY (and d2i_X509, d2i_X509_REQ, which call it) spends about 90 µs per P-256 key looking
// decoders up; this decodes the structure with an ASN.1 template of our own that keeps algorithm
// and key bits, and imports EC (P-256, P-384) and Ed25519 keys straight from their point in a
// few microseconds. Other keys (RSA) take OpenSSL's general path. Used for CSRs (csr_policy.cc)
// and for attestation keys read from stored certificates (certificate_outline.h).
#pragma once

#include <openssl/asn1t.h>
#include <openssl/x509.h>

#include <string_view>

#include "absl/status/statusor.h"
#include "common/openssl_ptr.h"

// RFC 5280 SubjectPublicKeyInfo, algorithm and bits as they arrived. asn1t.h conventions, hence
// the C-style names.
extern "C" {
typedef struct {
  X509_ALGOR* algorithm;
  ASN1_BIT_STRING* public_key;
} KEYLINE_SPKI;
DECLARE_ASN1_ITEM(KEYLINE_SPKI)
}

namespace keyline::ca {

// The key `spki` describes. EC keys must name P-256 or P-384 (explicit parameters and other curves
// are refused); the point is checked to be on the curve. InvalidArgument "<field>: ..." otherwise.
[[nodiscard]] absl::StatusOr<EvpPkeyPtr> DecodePublicKey(const KEYLINE_SPKI* spki,
                                                         std::string_view field);

// The same from SubjectPublicKeyInfo DER (exactly one, nothing after it).
[[nodiscard]] absl::StatusOr<EvpPkeyPtr> DecodePublicKeyDer(std::string_view der,
                                                            std::string_view field);

// A BIT STRING's octets, and whether its last octet has unused bits (keys and signatures are
// whole octets).
std::string_view BitStringBytes(const ASN1_BIT_STRING* bits);
bool HasUnusedBits(const ASN1_BIT_STRING* bits);

}  // namespace keyline::ca
