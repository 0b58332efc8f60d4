#include "migrations/embedded_migrations.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/files.h"

namespace keyline::migrations {
namespace {

TEST(EmbeddedMigrationsTest, SortedUniqueAndNamedAfterTheirVersion) {
  const auto migrations = EmbeddedMigrations();
  ASSERT_FALSE(migrations.empty());
  EXPECT_EQ(migrations[0].version, 1);
  EXPECT_EQ(migrations[0].name, "0001_initial.sql");
  for (size_t i = 0; i < migrations.size(); ++i) {
    char prefix[8];
    std::snprintf(prefix, sizeof(prefix), "%04d_", migrations[i].version);
    EXPECT_TRUE(migrations[i].name.starts_with(prefix)) << migrations[i].name;
    EXPECT_TRUE(migrations[i].name.ends_with(".sql")) << migrations[i].name;
    if (i > 0) {
      EXPECT_LT(migrations[i - 1].version, migrations[i].version);
    }
  }
}

// The embedded text is byte for byte the file: its checksum is what the migrator records.
TEST(EmbeddedMigrationsTest, TextIsExactlyTheFile) {
  const char* source_dir = std::getenv("KEYLINE_SOURCE_DIR");
  if (source_dir == nullptr) source_dir = KEYLINE_SOURCE_DIR_DEFAULT;
  for (const Migration& migration : EmbeddedMigrations()) {
    const auto contents =
        ReadFile(std::string(source_dir) + "/migrations/" + std::string(migration.name));
    ASSERT_TRUE(contents.ok()) << contents.status();
    EXPECT_EQ(*contents, migration.sql) << migration.name;
  }
}

}  // namespace
}  // namespace keyline::migrations
