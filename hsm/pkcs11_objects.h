// Small helpers for PKCS#11 object templates, searches and attribute reads. They return the raw
// CK_RV so that they can run inside SessionPool::Run, which decides about recovery.
#pragma once

#include <p11-kit/pkcs11.h>

#include <string>
#include <vector>

namespace keyline::hsm {

// Template entries. The attribute points at `value`, which must outlive the template.
CK_ATTRIBUTE BytesAttribute(CK_ATTRIBUTE_TYPE type, const std::string& value);
CK_ATTRIBUTE BoolAttribute(CK_ATTRIBUTE_TYPE type, bool value);
CK_ATTRIBUTE UlongAttribute(CK_ATTRIBUTE_TYPE type, const CK_ULONG& value);

// Replaces `found` with the objects matching the template (at most `limit`); the search is always
// finalised, also on error.
CK_RV FindObjects(CK_FUNCTION_LIST* functions, CK_SESSION_HANDLE session,
                  const CK_ATTRIBUTE* attributes, CK_ULONG attribute_count, size_t limit,
                  std::vector<CK_OBJECT_HANDLE>& found);

// Reads a variable-length attribute (label, id, EC parameters, EC point).
CK_RV GetBytesAttribute(CK_FUNCTION_LIST* functions, CK_SESSION_HANDLE session,
                        CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type, std::string& value);

}  // namespace keyline::hsm
