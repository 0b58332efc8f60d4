#include "hsm/pkcs11_status.h"

#include <gtest/gtest.h>

#include "hsm/key_algorithm.h"

namespace keyline::hsm {
namespace {

TEST(Pkcs11StatusTest, NamesReturnValues) {
  EXPECT_EQ(CkrName(CKR_OK), "CKR_OK");
  EXPECT_EQ(CkrName(CKR_SESSION_HANDLE_INVALID), "CKR_SESSION_HANDLE_INVALID");
  EXPECT_EQ(CkrName(CKR_FUNCTION_REJECTED), "CKR_FUNCTION_REJECTED");
  EXPECT_EQ(CkrName(CKR_VENDOR_DEFINED + 0x2a), "CKR_0x8000002a");
}

TEST(Pkcs11StatusTest, MapsReturnValuesToCodes) {
  EXPECT_TRUE(Pkcs11Status(CKR_OK, "C_Sign").ok());
  const absl::Status lost = Pkcs11Status(CKR_SESSION_HANDLE_INVALID, "C_Sign");
  EXPECT_EQ(lost.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(lost.message(), "C_Sign: CKR_SESSION_HANDLE_INVALID");
  EXPECT_EQ(Pkcs11Status(CKR_DEVICE_REMOVED, "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Pkcs11Status(CKR_USER_NOT_LOGGED_IN, "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Pkcs11Status(CKR_PIN_INCORRECT, "x").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Pkcs11Status(CKR_PIN_LOCKED, "x").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Pkcs11Status(CKR_KEY_HANDLE_INVALID, "x").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Pkcs11Status(CKR_SLOT_ID_INVALID, "x").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Pkcs11Status(CKR_DATA_LEN_RANGE, "x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Pkcs11Status(CKR_TEMPLATE_INCONSISTENT, "x").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Pkcs11Status(CKR_GENERAL_ERROR, "x").code(), absl::StatusCode::kInternal);
  EXPECT_EQ(Pkcs11Status(CKR_VENDOR_DEFINED, "x").code(), absl::StatusCode::kInternal);
}

TEST(Pkcs11StatusTest, RecoverableValuesAreExactlyTheDocumentedOnes) {
  for (const CK_RV rv : {CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED, CKR_USER_NOT_LOGGED_IN,
                         CKR_DEVICE_REMOVED, CKR_DEVICE_ERROR, CKR_TOKEN_NOT_PRESENT,
                         CKR_OBJECT_HANDLE_INVALID, CKR_KEY_HANDLE_INVALID}) {
    EXPECT_TRUE(IsRecoverable(rv)) << CkrName(rv);
  }
  for (const CK_RV rv : {CKR_OK, CKR_PIN_INCORRECT, CKR_GENERAL_ERROR, CKR_DATA_LEN_RANGE,
                         CKR_OPERATION_ACTIVE, CKR_DEVICE_MEMORY, CKR_ATTRIBUTE_SENSITIVE}) {
    EXPECT_FALSE(IsRecoverable(rv)) << CkrName(rv);
  }
}

TEST(KeyAlgorithmTest, NamesParseAndDigestLengths) {
  for (const KeyAlgorithm algorithm : {KeyAlgorithm::kEcdsaP256, KeyAlgorithm::kEcdsaP384}) {
    EXPECT_EQ(*ParseKeyAlgorithm(KeyAlgorithmName(algorithm)), algorithm);
  }
  EXPECT_EQ(KeyAlgorithmName(KeyAlgorithm::kEcdsaP256), "ec-p256");
  EXPECT_EQ(KeyAlgorithmName(KeyAlgorithm::kEcdsaP384), "ec-p384");
  EXPECT_EQ(DigestLength(KeyAlgorithm::kEcdsaP256), 32u);
  EXPECT_EQ(DigestLength(KeyAlgorithm::kEcdsaP384), 48u);
  EXPECT_EQ(ParseKeyAlgorithm("rsa-2048").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseKeyAlgorithm("EC-P256").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseKeyAlgorithm("").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace keyline::hsm
