#include "hsm/key_objects.h"

#include <iterator>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "hsm/ec_curve.h"
#include "hsm/pkcs11_objects.h"

namespace keyline::hsm {

namespace {

// See CopyKeyToSession.
std::mutex& KeyObjectsMutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

CK_RV FindKeyObjects(CK_FUNCTION_LIST* functions, CK_SESSION_HANDLE session,
                     CK_OBJECT_CLASS object_class, const std::string& label, const std::string& id,
                     size_t limit, std::vector<CK_OBJECT_HANDLE>& found) {
  // Token objects only: Pkcs11SigningKey keeps session copies of keys under the same label.
  CK_ATTRIBUTE attributes[4] = {UlongAttribute(CKA_CLASS, object_class),
                                BoolAttribute(CKA_TOKEN, true)};
  CK_ULONG count = 2;
  if (!label.empty()) attributes[count++] = BytesAttribute(CKA_LABEL, label);
  if (!id.empty()) attributes[count++] = BytesAttribute(CKA_ID, id);
  const std::lock_guard<std::mutex> lock(KeyObjectsMutex());
  return FindObjects(functions, session, attributes, count, limit, found);
}

CK_RV CopyKeyToSession(CK_FUNCTION_LIST* functions, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key,
                       CK_OBJECT_HANDLE& copy) {
  CK_ATTRIBUTE session_only[] = {BoolAttribute(CKA_TOKEN, false)};
  copy = CK_INVALID_HANDLE;
  const std::lock_guard<std::mutex> lock(KeyObjectsMutex());
  return functions->C_CopyObject(session, key, session_only, std::size(session_only), &copy);
}

CK_RV ReadPrivateKeyAttributes(CK_FUNCTION_LIST* functions, CK_SESSION_HANDLE session,
                               CK_OBJECT_HANDLE key, PrivateKeyAttributes& attributes) {
  CK_ATTRIBUTE fixed[] = {
      {CKA_KEY_TYPE, &attributes.key_type, sizeof(attributes.key_type)},
      {CKA_SENSITIVE, &attributes.sensitive, sizeof(CK_BBOOL)},
      {CKA_EXTRACTABLE, &attributes.extractable, sizeof(CK_BBOOL)},
      {CKA_ALWAYS_SENSITIVE, &attributes.always_sensitive, sizeof(CK_BBOOL)},
      {CKA_NEVER_EXTRACTABLE, &attributes.never_extractable, sizeof(CK_BBOOL)},
  };
  CK_RV rv = functions->C_GetAttributeValue(session, key, fixed, std::size(fixed));
  // With these two codes the module still fills every attribute it has (PKCS#11 2.40, 5.7).
  if (rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID && rv != CKR_ATTRIBUTE_SENSITIVE) return rv;
  if ((rv = GetBytesAttribute(functions, session, key, CKA_LABEL, attributes.label)) != CKR_OK) {
    return rv;
  }
  if ((rv = GetBytesAttribute(functions, session, key, CKA_ID, attributes.id)) != CKR_OK) {
    return rv;
  }
  attributes.ec_params.clear();
  if (attributes.key_type != CKK_EC) return CKR_OK;
  return GetBytesAttribute(functions, session, key, CKA_EC_PARAMS, attributes.ec_params);
}

absl::StatusOr<KeyInfo> ToKeyInfo(const PrivateKeyAttributes& attributes) {
  if (attributes.key_type != CKK_EC) {
    return absl::FailedPreconditionError(
        absl::StrCat("key \"", attributes.label, "\": not an EC key"));
  }
  absl::StatusOr<KeyAlgorithm> algorithm = AlgorithmForEcParams(attributes.ec_params);
  if (!algorithm.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("key \"", attributes.label, "\": ", algorithm.status().message()));
  }
  KeyInfo info{.label = attributes.label, .id = attributes.id, .algorithm = *algorithm};
  info.sensitive = attributes.sensitive != CK_FALSE;
  info.extractable = attributes.extractable != CK_FALSE;
  info.always_sensitive = attributes.always_sensitive != CK_FALSE;
  info.never_extractable = attributes.never_extractable != CK_FALSE;
  return info;
}

}  // namespace keyline::hsm
