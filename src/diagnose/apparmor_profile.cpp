// SPDX-License-Identifier: Apache-2.0
// The AppArmor profile `boxjail doctor --apparmor-profile` prints. It is the shape Ubuntu ships
// for its own userns-using programs (flags=(unconfined) plus `userns,`): boxjail stays
// unconfined, and AppArmor no longer moves it into "unprivileged_userns" when it creates a user
// namespace. It needs AppArmor 4 (abi/4.0), the first with user namespace mediation.
#include <boxjail/diagnose.hpp>

#include <string>

namespace boxjail {

namespace {

// An attachment is an AppArmor glob: characters that mean something there are escaped, and a
// path with blanks is quoted, so the profile attaches to exactly this file.
std::string attachment(const std::string& path) {
  std::string escaped;
  bool quote = false;
  for (char c : path) {
    switch (c) {
      case '*':
      case '?':
      case '[':
      case ']':
      case '{':
      case '}':
      case '^':
      case '\\':
      case '"':
        escaped += '\\';
        escaped += c;
        break;
      case ' ':
      case '\t':
        quote = true;
        escaped += c;
        break;
      default:
        escaped += c;
    }
  }
  return quote ? "\"" + escaped + "\"" : escaped;
}

}  // namespace

std::string apparmor_profile(const std::string& binary_path) {
  std::string p;
  p += "# AppArmor profile for boxjail (" + binary_path + ").\n";
  p += "# Lets boxjail create user namespaces where AppArmor restricts them (Ubuntu 23.10+);\n";
  p += "# boxjail stays unconfined otherwise. Install it with:\n";
  p += "#   boxjail doctor --apparmor-profile | sudo tee /etc/apparmor.d/boxjail\n";
  p += "#   sudo apparmor_parser -r /etc/apparmor.d/boxjail\n";
  p += "# The profile names boxjail's real path: generate it again if the binary moves.\n";
  p += "abi <abi/4.0>,\n";
  p += "include <tunables/global>\n";
  p += "\n";
  p += "profile boxjail " + attachment(binary_path) + " flags=(unconfined) {\n";
  p += "  userns,\n";
  p += "\n";
  p += "  # Site-specific additions and overrides.\n";
  p += "  include if exists <local/boxjail>\n";
  p += "}\n";
  return p;
}

}  // namespace boxjail
