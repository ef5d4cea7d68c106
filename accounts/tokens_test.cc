#include "accounts/tokens.h"

#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace penncloud::accounts {
namespace {

TEST(Sha256HexTest, KnownDigests) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // The context is reused: a second digest on the same thread starts afresh.
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256HexTest, EveryThreadGetsTheSameDigest) {
  const std::string token = NewToken();
  const std::string here = Sha256Hex(token);
  std::string there;
  std::thread([&] { there = Sha256Hex(token); }).join();
  EXPECT_EQ(here, there);
  EXPECT_EQ(here.size(), 64u);
}

}  // namespace
}  // namespace penncloud::accounts
