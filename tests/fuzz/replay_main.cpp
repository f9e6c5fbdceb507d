// Corpus replay for a build without libFuzzer (gcc, or clang without SORTD_FUZZ): runs the fuzz
// target's LLVMFuzzerTestOneInput once over every file given, or every file of every directory
// given (in name order), so that the seed corpus and every regression input are checked by the
// normal test suite. A failed property aborts, as under libFuzzer.
//   fuzz_<name> tests/fuzz/corpus/<name> [more files or directories...]
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    if (fs::is_directory(argv[i])) {
      std::vector<fs::path> in_dir;
      for (const auto& e : fs::directory_iterator(argv[i]))
        if (e.is_regular_file()) in_dir.push_back(e.path());
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else if (fs::exists(argv[i])) {
      files.emplace_back(argv[i]);
    } else {
      std::cerr << argv[0] << ": no such file or directory: " << argv[i] << "\n";
      return 2;
    }
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::cout << "replay: " << f.filename().string() << " (" << data.size() << " bytes)\n";
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
  }
  std::cout << fs::path(argv[0]).filename().string() << ": " << files.size()
            << " inputs replayed, no failure\n";
  return files.empty() ? 1 : 0;
}
