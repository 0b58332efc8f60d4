// The templates Keyline generates its HSM keys with.
#pragma once

#include <p11-kit/pkcs11.h>

#include <string>

namespace keyline::hsm {

// Generates an EC key pair as token objects (CKM_EC_KEY_PAIR_GEN). The private key is
// CKA_PRIVATE, CKA_SENSITIVE, not CKA_EXTRACTABLE and may only sign; the public key may only
// verify. Both carry `label` and `id`. `ec_params` is the curve's CKA_EC_PARAMS (EcParamsFor-
// Algorithm). Needs a read-write session of a logged-in user.
CK_RV GenerateEcKeyPair(CK_FUNCTION_LIST* functions, CK_SESSION_HANDLE session,
                        const std::string& ec_params, const std::string& label,
                        const std::string& id, CK_OBJECT_HANDLE& public_key,
                        CK_OBJECT_HANDLE& private_key);

}  // namespace keyline::hsm
