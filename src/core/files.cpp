#include "core/files.hpp"

#include <fstream>

namespace opsbox {

Result<std::string> ReadFileCapped(const std::string& path, size_t bytes_max,
                                   const std::string& field) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::Invalid(field, "readable", "cannot open " + path);
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) return Error::Invalid(field, "readable", "cannot read " + path);
  if (static_cast<size_t>(size) > bytes_max) {
    return Error::Invalid(field, "max_bytes", path + " is larger than " +
                          std::to_string(bytes_max) + " bytes");
  }
  in.seekg(0, std::ios::beg);
  std::string data(static_cast<size_t>(size), '\0');
  if (!in.read(data.data(), size)) return Error::Invalid(field, "readable", "cannot read " + path);
  return data;
}

}  // namespace opsbox
