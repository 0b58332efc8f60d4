#include "common/files.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

namespace keyline {
namespace {

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/keyline-files-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(FilesTest, WritesWithExactModeDespiteUmask) {
  const std::string path = dir_ + "/secret";
  const mode_t old_umask = umask(0);
  ASSERT_TRUE(WriteFileAtomically(path, "pin", 0600).ok());
  umask(old_umask);
  struct stat info {};
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(*ReadFile(path), "pin");
}

TEST_F(FilesTest, ReplacesExistingFile) {
  const std::string path = dir_ + "/f";
  ASSERT_TRUE(WriteFileAtomically(path, "one").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "two").ok());
  EXPECT_EQ(*ReadFile(path), "two");
}

TEST_F(FilesTest, ReadRejectsMissingAndOversizedFiles) {
  EXPECT_EQ(ReadFile(dir_ + "/missing").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/big", std::string(100, 'x')).ok());
  const auto result = ReadFile(dir_ + "/big", 10);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("limit"), std::string::npos);
}

TEST_F(FilesTest, MakeDirectoriesSetsMode) {
  const std::string path = dir_ + "/a/b";
  ASSERT_TRUE(MakeDirectories(path, 0700).ok());
  struct stat info {};
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
}

}  // namespace
}  // namespace keyline
