#include "cli/serial_list.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace keyline::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(SerialListTest, SkipsCommentsAndBlankLinesAndTrims) {
  const auto serials = ParseSerialList("# claimed for the ICU\nSN-1\r\n\n  SN-2  \n#SN-3\nsn.4_x\n",
                                       "serials.txt");
  ASSERT_TRUE(serials.ok()) << serials.status();
  EXPECT_THAT(*serials, ElementsAre("SN-1", "SN-2", "sn.4_x"));
}

TEST(SerialListTest, NamesTheLineOfAMalformedSerial) {
  const auto serials = ParseSerialList("SN-1\n\nSN 2\n", "serials.txt");
  EXPECT_EQ(serials.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(serials.status().ToString(), HasSubstr("serials.txt:3"));

  const auto leading_dot = ParseSerialList("SN-1\n.hidden\n", "s");
  EXPECT_THAT(leading_dot.status().ToString(), HasSubstr("s:2"));
}

TEST(SerialListTest, RefusesRepeatsNamingBothLines) {
  const auto serials = ParseSerialList("SN-1\nSN-2\n\nSN-1\n", "serials.txt");
  EXPECT_EQ(serials.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(serials.status().ToString(), HasSubstr("serials.txt:4: SN-1 repeats serials.txt:1"));
}

TEST(SerialListTest, RefusesAnEmptyList) {
  EXPECT_EQ(ParseSerialList("# nothing\n\n", "serials.txt").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SerialListTest, FlagsNeedExactlyOneSource) {
  EXPECT_FALSE(CollectSerials({}, "").ok());
  EXPECT_FALSE(CollectSerials({"SN-1"}, "serials.txt").ok());
  const auto serials = CollectSerials({"SN-1", "SN-2"}, "");
  ASSERT_TRUE(serials.ok());
  EXPECT_THAT(*serials, ElementsAre("SN-1", "SN-2"));
  EXPECT_THAT(CollectSerials({"SN-1", "SN-1"}, "").status().ToString(),
              HasSubstr("--serial #2: SN-1 repeats --serial #1"));
  EXPECT_THAT(CollectSerials({"ok", "bad/serial"}, "").status().ToString(),
              HasSubstr("--serial #2"));
}

TEST(SerialListTest, MissingFileIsNotFound) {
  EXPECT_EQ(CollectSerials({}, "/nonexistent/serials.txt").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace keyline::cli
