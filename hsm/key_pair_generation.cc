#include "hsm/key_pair_generation.h"

#include <iterator>

#include "hsm/pkcs11_objects.h"

namespace keyline::hsm {

CK_RV GenerateEcKeyPair(CK_FUNCTION_LIST* functions, CK_SESSION_HANDLE session,
                        const std::string& ec_params, const std::string& label,
                        const std::string& id, CK_OBJECT_HANDLE& public_key,
                        CK_OBJECT_HANDLE& private_key) {
  CK_MECHANISM mechanism{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  CK_ATTRIBUTE public_template[] = {
      BoolAttribute(CKA_TOKEN, true),   BoolAttribute(CKA_PRIVATE, false),
      BoolAttribute(CKA_VERIFY, true),  BoolAttribute(CKA_ENCRYPT, false),
      BoolAttribute(CKA_WRAP, false),   BytesAttribute(CKA_EC_PARAMS, ec_params),
      BytesAttribute(CKA_LABEL, label), BytesAttribute(CKA_ID, id),
  };
  // Sensitive and never extractable from birth, so the token reports CKA_ALWAYS_SENSITIVE and
  // CKA_NEVER_EXTRACTABLE: the key has never existed outside the HSM. Signing is its only use.
  CK_ATTRIBUTE private_template[] = {
      BoolAttribute(CKA_TOKEN, true),     BoolAttribute(CKA_PRIVATE, true),
      BoolAttribute(CKA_SENSITIVE, true), BoolAttribute(CKA_EXTRACTABLE, false),
      BoolAttribute(CKA_SIGN, true),      BoolAttribute(CKA_DECRYPT, false),
      BoolAttribute(CKA_UNWRAP, false),   BoolAttribute(CKA_DERIVE, false),
      BytesAttribute(CKA_LABEL, label),   BytesAttribute(CKA_ID, id),
  };
  return functions->C_GenerateKeyPair(session, &mechanism, public_template,
                                      std::size(public_template), private_template,
                                      std::size(private_template), &public_key, &private_key);
}

}  // namespace keyline::hsm
