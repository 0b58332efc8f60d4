#include "hsm/pkcs11_objects.h"

#include <algorithm>
#include <iterator>
#include <memory>

namespace keyline::hsm {
namespace {

// PKCS#11 templates take non-const pointers even for values the module only reads.
constexpr CK_BBOOL kTrue = CK_TRUE;
constexpr CK_BBOOL kFalse = CK_FALSE;

// Ends a C_FindObjectsInit search when it goes out of scope.
struct SearchFinalizer {
  CK_FUNCTION_LIST* functions;
  void operator()(const CK_SESSION_HANDLE* session) const {
    functions->C_FindObjectsFinal(*session);
  }
};

}  // namespace

CK_ATTRIBUTE BytesAttribute(CK_ATTRIBUTE_TYPE type, const std::string& value) {
  return CK_ATTRIBUTE{type, const_cast<char*>(value.data()), value.size()};
}

CK_ATTRIBUTE BoolAttribute(CK_ATTRIBUTE_TYPE type, bool value) {
  return CK_ATTRIBUTE{type, const_cast<CK_BBOOL*>(value ? &kTrue : &kFalse), sizeof(CK_BBOOL)};
}

CK_ATTRIBUTE UlongAttribute(CK_ATTRIBUTE_TYPE type, const CK_ULONG& value) {
  return CK_ATTRIBUTE{type, const_cast<CK_ULONG*>(&value), sizeof(CK_ULONG)};
}

CK_RV FindObjects(CK_FUNCTION_LIST* functions, CK_SESSION_HANDLE session,
                  const CK_ATTRIBUTE* attributes, CK_ULONG attribute_count, size_t limit,
                  std::vector<CK_OBJECT_HANDLE>& found) {
  found.clear();
  CK_RV rv =
      functions->C_FindObjectsInit(session, const_cast<CK_ATTRIBUTE*>(attributes), attribute_count);
  if (rv != CKR_OK) return rv;
  const std::unique_ptr<const CK_SESSION_HANDLE, SearchFinalizer> finalize(&session, {functions});
  CK_OBJECT_HANDLE batch[32];
  while (found.size() < limit) {
    CK_ULONG count = 0;
    const CK_ULONG wanted =
        static_cast<CK_ULONG>(std::min<size_t>(std::size(batch), limit - found.size()));
    rv = functions->C_FindObjects(session, batch, wanted, &count);
    if (rv != CKR_OK) return rv;
    if (count == 0) break;
    found.insert(found.end(), batch, batch + count);
  }
  return CKR_OK;
}

CK_RV GetBytesAttribute(CK_FUNCTION_LIST* functions, CK_SESSION_HANDLE session,
                        CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type, std::string& value) {
  CK_ATTRIBUTE attribute{type, nullptr, 0};
  CK_RV rv = functions->C_GetAttributeValue(session, object, &attribute, 1);
  if (rv != CKR_OK) return rv;
  if (attribute.ulValueLen == CK_UNAVAILABLE_INFORMATION) return CKR_ATTRIBUTE_TYPE_INVALID;
  value.resize(attribute.ulValueLen);
  attribute.pValue = value.data();
  rv = functions->C_GetAttributeValue(session, object, &attribute, 1);
  if (rv != CKR_OK) return rv;
  value.resize(attribute.ulValueLen);
  return CKR_OK;
}

}  // namespace keyline::hsm
