#include "hsm/pin_source.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "common/absl_compat.h"
#include "common/files.h"

namespace keyline::hsm {
namespace {

class PinSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/keyline-pin-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string WritePinFile(const std::string& name, const std::string& contents,
                           unsigned mode = 0600) {
    const std::string path = dir_ + "/" + name;
    EXPECT_TRUE(WriteFileAtomically(path, contents, mode).ok());
    return path;
  }

  std::string dir_;
};

TEST_F(PinSourceTest, ReadsFileAndStripsOneTrailingNewline) {
  EXPECT_EQ(*ReadPin("file:" + WritePinFile("plain", "1234")), "1234");
  EXPECT_EQ(*ReadPin("file:" + WritePinFile("newline", "5678\n")), "5678");
  EXPECT_EQ(*ReadPin("file:" + WritePinFile("two", "90\n\n")), "90\n");
  EXPECT_EQ(*ReadPin("file:" + WritePinFile("spaces", " a b ")), " a b ");
}

TEST_F(PinSourceTest, RefusesFilesOthersCanRead) {
  for (const unsigned mode : {0644u, 0640u, 0604u, 0620u}) {
    const std::string source = "file:" + WritePinFile("shared", "1234", mode);
    const absl::StatusOr<std::string> pin = ReadPin(source);
    ASSERT_FALSE(pin.ok()) << std::oct << mode;
    EXPECT_EQ(pin.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(AsStd(pin.status().message()).find(source), std::string::npos);
    EXPECT_EQ(AsStd(pin.status().message()).find("1234"), std::string::npos);
  }
  EXPECT_TRUE(ReadPin("file:" + WritePinFile("owner-only", "1234", 0400)).ok());
}

TEST_F(PinSourceTest, MissingFileIsNotFound) {
  const absl::StatusOr<std::string> pin = ReadPin("file:" + dir_ + "/missing");
  EXPECT_EQ(pin.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(AsStd(pin.status().message()).find("missing"), std::string::npos);
}

TEST_F(PinSourceTest, EmptyPinIsRefused) {
  EXPECT_EQ(ReadPin("file:" + WritePinFile("empty", "")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadPin("file:" + WritePinFile("just-newline", "\n")).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(setenv("KEYLINE_TEST_EMPTY_PIN", "", 1), 0);
  EXPECT_EQ(ReadPin("env:KEYLINE_TEST_EMPTY_PIN").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadPin("file:").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PinSourceTest, ReadsEnvironmentVariable) {
  ASSERT_EQ(setenv("KEYLINE_TEST_PIN", "s3cret\n", 1), 0);
  // Variables are taken as they are: only files get their newline stripped.
  EXPECT_EQ(*ReadPin("env:KEYLINE_TEST_PIN"), "s3cret\n");
}

TEST_F(PinSourceTest, UnsetVariableIsNotFound) {
  ASSERT_EQ(unsetenv("KEYLINE_TEST_UNSET_PIN"), 0);
  const absl::StatusOr<std::string> pin = ReadPin("env:KEYLINE_TEST_UNSET_PIN");
  EXPECT_EQ(pin.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(AsStd(pin.status().message()).find("env:KEYLINE_TEST_UNSET_PIN"), std::string::npos);
  EXPECT_EQ(ReadPin("env:").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PinSourceTest, UnknownSchemeIsRefusedWithoutEchoingIt) {
  for (const char* source : {"1234", "pin:1234", "FILE:/x", "https://vault/pin", ""}) {
    const absl::StatusOr<std::string> pin = ReadPin(source);
    ASSERT_FALSE(pin.ok()) << source;
    EXPECT_EQ(pin.status().code(), absl::StatusCode::kInvalidArgument) << source;
    EXPECT_EQ(AsStd(pin.status().message()).find("1234"), std::string::npos);
  }
}

}  // namespace
}  // namespace keyline::hsm
