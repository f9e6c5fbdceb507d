// A fresh directory for one test, removed with everything in it at the end.
#pragma once

#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <string>

namespace sortd::test {

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix = "sortd-test") {
    std::string t = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    BOOST_REQUIRE(mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // A file in the directory with this content; returns its path.
  std::string file(const std::string& name, const std::string& content) const {
    std::string p = (path / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  std::string db(const std::string& name = "sortd.db") const { return (path / name).string(); }
};

}  // namespace sortd::test
