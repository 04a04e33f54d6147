// Goal: the backup bundle's pure parts hold their contract — the manifest round-trips and is
// parsed strictly, sealing opens only with the right passphrase, passphrase lengths are checked
// at the limits, a changed byte anywhere in a bundle is refused naming the part, and scheduled
// retention deletes exactly the oldest bundles past the keep count.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include "backup/backup.hpp"
#include "backup/internal/bundle_io.hpp"
#include "core/crypto.hpp"

namespace opsbox::backup {
namespace {

// Small KDF limits keep the tests fast; the production limits are the named constants.
constexpr uint64_t kTestOps = 1;
constexpr uint64_t kTestMem = 8u << 20;
const std::string kPassphrase = "correct horse battery";

Manifest SampleManifest() {
  Manifest m;
  m.opsbox_version = "0.1.0";
  m.schema_version = 8;
  m.created_at_us = 1'790'000'000'000'000;
  m.source_backend = "sqlite";
  TenantHead h;
  h.tenant_id = "acme";
  h.head_seq = 42;
  h.head_hash = std::string(64, 'a');
  h.checkpoint_tree_size = 40;
  h.checkpoint_root_hash = std::string(64, 'b');
  h.checkpoint_signature = std::string(128, 'c');
  m.tenants.push_back(h);
  m.parts.push_back({"table/ledger_events", 10, std::string(64, 'd'), 2, {"tenant_id", "seq"}});
  m.keys_note = "keys NOT included";
  return m;
}

std::filesystem::path TempDir() {
  std::random_device rd;
  auto dir = std::filesystem::temp_directory_path() / ("opsbox-backup-test-" + std::to_string(rd()));
  std::filesystem::create_directories(dir);
  return dir;
}

// A bundle with two parts and a manifest, written through the real writer.
std::string WriteSampleBundle(const std::filesystem::path& dir) {
  const std::string path = (dir / "sample.obk").string();
  detail::BundleWriter w;
  EXPECT_TRUE(w.Open(path).ok());
  Manifest m = SampleManifest();
  m.parts.clear();
  for (const std::string name : {"table/alpha", "table/beta"}) {
    EXPECT_TRUE(w.BeginPart(name).ok());
    EXPECT_TRUE(w.Write("[1,\"x\",null]\n[2,\"y\",null]\n").ok());
    auto e = w.EndPart(name);
    EXPECT_TRUE(e.ok());
    e->rows = 2;
    e->columns = {"a", "b", "c"};
    m.parts.push_back(*e);
  }
  EXPECT_TRUE(w.BeginPart(kManifestPart).ok());
  EXPECT_TRUE(w.Write(ManifestToJson(m).dump()).ok());
  EXPECT_TRUE(w.EndPart(std::string(kManifestPart)).ok());
  EXPECT_TRUE(w.Finish().ok());
  return path;
}

void FlipByteAt(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x01);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

TEST(Manifest, RoundTripsThroughJson) {
  const Manifest m = SampleManifest();
  auto back = ManifestFromJson(ManifestToJson(m));
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(ManifestToJson(*back), ManifestToJson(m));
}

TEST(Manifest, RefusesANewerFormatAndBadColumnNamesNamingTheField) {
  Json j = ManifestToJson(SampleManifest());
  j["format_version"] = kBundleFormatVersion + 1;
  auto newer = ManifestFromJson(j);
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.error().field, "manifest.format_version");
  j = ManifestToJson(SampleManifest());
  j["parts"][0]["columns"][0] = "seq\"; DROP TABLE x";
  auto bad = ManifestFromJson(j);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().rule, "identifier");
}

TEST(Sealing, OpensWithTheRightPassphraseOnly) {
  InitCrypto();
  auto sealed = SealWithPassphrase("secret keys", kPassphrase, kTestOps, kTestMem);
  ASSERT_TRUE(sealed.ok()) << sealed.error().ToString();
  EXPECT_EQ(sealed->find("secret keys"), std::string::npos);
  auto opened = OpenWithPassphrase(*sealed, kPassphrase, kTestOps, kTestMem);
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_EQ(*opened, "secret keys");
  auto wrong = OpenWithPassphrase(*sealed, kPassphrase + "!", kTestOps, kTestMem);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().rule, "wrong_passphrase");
}

TEST(Sealing, PassphraseLengthIsCheckedAtBothLimits) {
  EXPECT_TRUE(CheckPassphrase(std::string(kPassphraseBytesMin, 'p')).ok());
  EXPECT_FALSE(CheckPassphrase(std::string(kPassphraseBytesMin - 1, 'p')).ok());
  EXPECT_TRUE(CheckPassphrase(std::string(kPassphraseBytesMax, 'p')).ok());
  auto over = CheckPassphrase(std::string(kPassphraseBytesMax + 1, 'p'));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().field, "passphrase");
  EXPECT_EQ(over.error().rule, "length");
}

TEST(Bundle, AnIntactBundleOpensWithEveryPartListed) {
  InitCrypto();
  const auto dir = TempDir();
  auto b = OpenBundle(WriteSampleBundle(dir));
  ASSERT_TRUE(b.ok()) << b.error().ToString();
  ASSERT_EQ(b->parts.size(), 2u);
  EXPECT_EQ(b->parts[1].name, "table/beta");
  std::filesystem::remove_all(dir);
}

TEST(Bundle, OneChangedByteInAnyPartIsRefusedNamingThatPart) {
  InitCrypto();
  const auto dir = TempDir();
  const std::string path = WriteSampleBundle(dir);
  auto intact = OpenBundle(path);
  ASSERT_TRUE(intact.ok());
  const std::string copy = (dir / "copy.obk").string();
  for (const auto& part : intact->parts) {
    std::filesystem::copy_file(path, copy, std::filesystem::copy_options::overwrite_existing);
    FlipByteAt(copy, part.offset + part.bytes / 2);
    auto r = OpenBundle(copy);
    ASSERT_FALSE(r.ok()) << part.name;
    EXPECT_EQ(r.error().rule, "part_hash");
    EXPECT_NE(r.error().message.find(part.name), std::string::npos) << r.error().message;
  }
  // The manifest's own bytes: the last part of the file.
  std::filesystem::copy_file(path, copy, std::filesystem::copy_options::overwrite_existing);
  FlipByteAt(copy, std::filesystem::file_size(copy) - 40);
  auto m = OpenBundle(copy);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("manifest.json"), std::string::npos) << m.error().message;
  // The magic line.
  std::filesystem::copy_file(path, copy, std::filesystem::copy_options::overwrite_existing);
  FlipByteAt(copy, 3);
  auto magic = OpenBundle(copy);
  ASSERT_FALSE(magic.ok());
  EXPECT_EQ(magic.error().rule, "magic");
  std::filesystem::remove_all(dir);
}

TEST(Bundle, ATruncatedBundleIsRefused) {
  InitCrypto();
  const auto dir = TempDir();
  const std::string path = WriteSampleBundle(dir);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 1);
  EXPECT_FALSE(OpenBundle(path).ok());
  std::filesystem::remove_all(dir);
}

TEST(Schedule, NamesSortByTimeAndRetentionKeepsTheNewest) {
  const std::string a = ScheduledBackupName(1'790'000'000'000'000);
  const std::string b = ScheduledBackupName(1'790'000'060'000'000);
  EXPECT_EQ(a, "opsbox-backup-20260921T141320Z.obk");
  EXPECT_LT(a, b);
  const std::string c = ScheduledBackupName(1'790'000'120'000'000);
  auto del = BackupsToDelete({c, "notes.txt", a, b, "opsbox-backup-x.obk"}, 2);
  ASSERT_EQ(del.size(), 1u);
  EXPECT_EQ(del[0], a);
  EXPECT_TRUE(BackupsToDelete({a, b}, 2).empty());
  EXPECT_EQ(BackupsToDelete({a, b, c}, 0).size(), 3u);
}

TEST(Schedule, StatusSaysFailingStaleOrOk) {
  ScheduleStatus s;
  EXPECT_EQ(s.State(0), "disabled");
  s.enabled = true;
  s.interval_s = 60;
  EXPECT_EQ(s.State(1), "pending");
  s.last_success_at_us = 1'000'000;
  EXPECT_EQ(s.State(2'000'000), "ok");
  EXPECT_EQ(s.State(1'000'000 + 121'000'000), "stale");
  s.last_failure_at_us = 3'000'000;
  EXPECT_EQ(s.State(4'000'000), "failing");
  EXPECT_EQ(s.ToJson(4'000'000)["state"], "failing");
  s.standby = true;  // another node of the cluster takes them
  EXPECT_EQ(s.State(4'000'000), "standby");
}

}  // namespace
}  // namespace opsbox::backup
