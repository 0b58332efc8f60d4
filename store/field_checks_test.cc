#include "store/field_checks.h"

#include <gtest/gtest.h>

#include <string>

namespace keyline::store {
namespace {

TEST(FieldChecksTest, MessagesNameTheField) {
  EXPECT_TRUE(CheckText("", "x").ok());
  const absl::Status nul = CheckText(std::string("a\0b", 3), "devices[2].hardware_model");
  EXPECT_EQ(nul.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(nul.message(), "devices[2].hardware_model: contains a NUL character");
  EXPECT_EQ(CheckText("\xff", "f").message(), "f: not valid UTF-8");
  EXPECT_EQ(CheckNonEmptyText("", "devices[0].device_serial").message(),
            "devices[0].device_serial: empty");
  EXPECT_TRUE(CheckNonEmptyText("a", "f").ok());
  EXPECT_EQ(CheckNonEmptyBytes("", "checkpoint.signature").message(),
            "checkpoint.signature: empty");
  EXPECT_TRUE(CheckNonEmptyBytes(std::string(1, '\0'), "f").ok());  // bytes may hold NUL
  EXPECT_EQ(CheckByteCount("abc", 16, "challenge.id").message(),
            "challenge.id: must be 16 bytes, not 3");
  EXPECT_TRUE(CheckByteCount(std::string(16, '\0'), 16, "challenge.id").ok());
}

TEST(FieldChecksTest, IndexedFieldNames) {
  EXPECT_EQ(IndexedField("devices", 3, "device_serial"), "devices[3].device_serial");
  EXPECT_EQ(IndexedField("device_serials", 0), "device_serials[0]");
}

}  // namespace
}  // namespace keyline::store
